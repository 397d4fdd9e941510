/**
 * Next to no work: returns a small object. The benchmarks use it to measure what jobloom costs
 * per instance. It can also write `logLines` log lines, to measure what a log line costs.
 *
 * `ctx` is optional so that the same function can run under raw Piscina and plain threads in
 * the benchmarks, which call it with the arguments alone (and no log lines).
 */
import type { ExecutorContextApi } from '../src/executor.js';

export interface TrivialArgs {
  /** Echoed back. Default 0. */
  n?: number;
  /** Log lines to write (at info level). Default 0. */
  logLines?: number;
}

export interface TrivialResult {
  n: number;
  ok: true;
}

export default function trivial(args: TrivialArgs = {}, ctx?: ExecutorContextApi): TrivialResult {
  const lines = args.logLines ?? 0;
  for (let i = 0; i < lines; i++) ctx?.log.info('trivial line', { i });
  return { n: args.n ?? 0, ok: true };
}
