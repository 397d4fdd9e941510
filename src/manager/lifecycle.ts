import type { HistoryWriter } from '../history/history-writer.js';
import type { StoreWrite } from '../store/store.js';
import type { InstanceRecord, InstanceState, SerializedError, StateTransition } from '../types.js';
import { deserializeError } from '../validate/serialize-error.js';
import type { TypedEvents } from './events.js';
import type { InstanceInfo } from './job-registry.js';
import { type LiveInstance, toRecord } from './live-instance.js';
import type { Loggers } from './loggers.js';

/** States before an attempt runs carry the number of the attempt they wait for. */
const WAITING_STATES: ReadonlySet<InstanceState> = new Set(['created', 'scheduled', 'queued']);

type Patch = Extract<StoreWrite, { op: 'update' }>['patch'];

export interface TransitionDetails {
  at: number;
  /** Fields of the record that change with this transition; taken over, not copied. */
  error?: SerializedError;
  result?: unknown;
  reason?: string;
  patch?: Patch;
}

/**
 * Records an instance's state changes: into history (through the ordered writer), as events,
 * and to the job's state-change handler. Handlers run on the main thread; one that throws or
 * rejects is logged and reported as `manager:error`, and the manager carries on.
 */
export class Lifecycle {
  readonly #writer: HistoryWriter;
  readonly #events: TypedEvents;
  readonly #loggers: Loggers;

  constructor(writer: HistoryWriter, events: TypedEvents, loggers: Loggers) {
    this.#writer = writer;
    this.#events = events;
    this.#loggers = loggers;
  }

  /**
   * Writes a new instance with its `created` and first `scheduled` transitions, and `queued`
   * too when it is due at once: one store change instead of two on the busiest path.
   */
  accept(live: LiveInstance, at: number, dueNow: boolean, reason?: string): void {
    const transitions = [
      this.#entry(live, 'created', { at }),
      this.#entry(live, 'scheduled', reason ? { at, reason } : { at }),
    ];
    if (dueNow) transitions.push(this.#entry(live, 'queued', { at }));
    live.state = dueNow ? 'queued' : 'scheduled';
    const instance: InstanceRecord = toRecord(live);
    this.#writer.write({ op: 'create', instance, transitions });
    this.#announce(live, 'created', 'created', at);
    this.#announce(live, 'scheduled', 'created', at);
    if (dueNow) this.#announce(live, 'queued', 'scheduled', at);
  }

  move(live: LiveInstance, state: InstanceState, details: TransitionDetails): void {
    const previous = live.state;
    live.state = state;
    const transition = this.#entry(live, state, details);
    const patch: Patch = details.patch ?? {};
    patch.state = state;
    patch.attempt = live.attempt;
    patch.updatedAt = details.at;
    if (details.error) patch.error = details.error;
    if ('result' in details) patch.result = details.result;
    this.#writer.write({ op: 'update', id: live.id, patch, transition });
    this.#announce(live, state, previous, details.at);
  }

  /** Runs a handler safely; a throw or rejection is logged, never propagated. */
  runHandler(live: LiveInstance, name: string, call: () => unknown): void {
    try {
      const returned = call();
      if (returned instanceof Promise)
        returned.catch((error) => this.#handlerFailed(live, name, error));
    } catch (error) {
      this.#handlerFailed(live, name, error);
    }
  }

  logger(live: LiveInstance) {
    return this.#loggers.forInstance(live);
  }

  info(live: LiveInstance): InstanceInfo {
    return { id: live.id, kind: live.job.kind, attempt: live.attempt, args: live.args };
  }

  /** The error a result promise rejects with, rebuilt from its serialized form. */
  errorOf(serialized: SerializedError): Error {
    return deserializeError(serialized);
  }

  #entry(live: LiveInstance, state: InstanceState, details: TransitionDetails): StateTransition {
    const entry: StateTransition = {
      instanceId: live.id,
      kind: live.job.kind,
      state,
      attempt: WAITING_STATES.has(state) ? live.attempt + 1 : live.attempt,
      at: details.at,
      seq: this.#writer.nextSeq(),
    };
    if (details.error) entry.error = details.error;
    if ('result' in details) entry.result = details.result;
    if (details.reason) entry.reason = details.reason;
    return entry;
  }

  #announce(live: LiveInstance, state: InstanceState, previous: InstanceState, at: number): void {
    if (this.#loggers.debug)
      this.#loggers.forInstance(live).debug({ state, previous }, 'state changed');
    if (this.#events.has('instance:state')) {
      const ref = { id: live.id, kind: live.job.kind, attempt: live.attempt };
      this.#events.emit('instance:state', { ...ref, state, previous, at });
    }
    const handler = live.handlers.onStateChange;
    if (handler) this.runHandler(live, 'onStateChange', () => handler(state, this.info(live)));
  }

  #handlerFailed(live: LiveInstance, name: string, error: unknown): void {
    this.#loggers.forInstance(live).error({ err: error }, `${name} handler failed`);
    this.#events.emit('manager:error', { error, source: `${live.job.kind}.${name}` });
  }
}
