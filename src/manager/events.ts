import type { ScheduleEvents } from '../schedule/schedule-events.js';
import type { InstanceState, LogLevel, SerializedError } from '../types.js';

/** Who an event is about. */
export interface InstanceRef {
  id: string;
  kind: string;
  attempt: number;
}

/**
 * Everything a JobManager announces. Each event has one object payload; a listener that
 * throws is logged and reported as `manager:error`, and never stops the manager.
 */
export interface JobManagerEvents extends ScheduleEvents {
  'instance:state': InstanceRef & { state: InstanceState; previous: InstanceState; at: number };
  'instance:completed': InstanceRef & { result: unknown; durationMs: number };
  'instance:failed': InstanceRef & { error: SerializedError };
  'instance:retrying': InstanceRef & { error: SerializedError; delayMs: number };
  'instance:timedOut': InstanceRef & { timeoutMs: number; terminated: boolean };
  'instance:canceled': InstanceRef & { reason: string };
  'instance:log': InstanceRef & { level: LogLevel; message: string; data?: unknown; at: number };
  'instance:progress': InstanceRef & { value: unknown; at: number };
  'pool:resized': { size: number; threads: number };
  'thread:crashed': { slot: number; error: SerializedError };
  'manager:idle': { at: number };
  'manager:error': { error: unknown; source: string };
}

export type JobManagerEventName = keyof JobManagerEvents;
type Listener<E extends JobManagerEventName> = (payload: JobManagerEvents[E]) => void;

/**
 * A small typed event emitter. `has` lets hot paths skip building a payload nobody listens to.
 */
export class TypedEvents {
  readonly #listeners = new Map<JobManagerEventName, Set<Listener<never>>>();
  readonly #onListenerError: (error: unknown, event: JobManagerEventName) => void;

  constructor(onListenerError: (error: unknown, event: JobManagerEventName) => void) {
    this.#onListenerError = onListenerError;
  }

  on<E extends JobManagerEventName>(event: E, listener: Listener<E>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  once<E extends JobManagerEventName>(event: E, listener: Listener<E>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  off<E extends JobManagerEventName>(event: E, listener: Listener<E>): void {
    this.#listeners.get(event)?.delete(listener as Listener<never>);
  }

  has(event: JobManagerEventName): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  emit<E extends JobManagerEventName>(event: E, payload: JobManagerEvents[E]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        (listener as Listener<E>)(payload);
      } catch (error) {
        if (event === 'manager:error') continue;
        this.#onListenerError(error, event);
      }
    }
  }
}
