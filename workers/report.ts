/**
 * An executor that shows what reaches the main thread while it runs: it writes log lines at
 * every level and reports progress through a few steps, then returns a summary.
 */
import { setTimeout as wait } from 'node:timers/promises';
import type { ExecutorContextApi } from '../src/executor.js';

export interface ReportArgs {
  /** A name for the report, echoed in its log lines and summary. Default `report`. */
  title?: string;
  /** How many steps to go through; each logs a line and reports progress. Default 4. */
  steps?: number;
  /** How long each step takes, in ms. Default 20. */
  stepMs?: number;
}

export interface ReportSummary {
  title: string;
  steps: number;
  /** Log lines written, by level. */
  lines: { debug: number; info: number; warn: number; error: number };
}

export default async function report(
  args: ReportArgs,
  ctx: ExecutorContextApi,
): Promise<ReportSummary> {
  const title = args.title ?? 'report';
  const steps = args.steps ?? 4;
  const stepMs = args.stepMs ?? 20;
  const lines = { debug: 0, info: 0, warn: 0, error: 0 };

  ctx.log.info(`${title}: starting`, { steps, attempt: ctx.attempt });
  lines.info++;
  for (let step = 1; step <= steps; step++) {
    await wait(stepMs, undefined, { signal: ctx.signal });
    ctx.log.debug(`${title}: step ${step} of ${steps} done`, { step });
    lines.debug++;
    ctx.progress({ done: step, total: steps });
  }

  ctx.log.warn(`${title}: ${steps} steps took ${steps * stepMs} ms or more`);
  lines.warn++;
  ctx.log.error(`${title}: an error line, written on purpose to show the level`);
  lines.error++;
  ctx.log.info(`${title}: done`);
  lines.info++;
  return { title, steps, lines };
}
