#!/usr/bin/env node
/**
 * The `jobloom` command. It only turns flags into library calls, prints what they return and
 * chooses the exit code; each subcommand lives in a file of its own.
 *
 * Exit codes: 0 success; 1 the work failed (an executor failed, a file could not be written);
 * 2 the command line was wrong (unknown or missing flag, a value refused).
 */
import { Command, CommanderError } from 'commander';
import { benchCommand } from './bench-command.js';
import { UsageError } from './usage-error.js';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

function program(): Command {
  const root = new Command('jobloom')
    .description('Run jobs on worker threads, and measure them.')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  for (const command of [benchCommand()]) root.addCommand(command.copyInheritedSettings(root));
  return root;
}

/** Runs the command line `argv` (without node and script) and resolves with the exit code. */
async function main(argv: readonly string[]): Promise<number> {
  try {
    await program().parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    return report(error);
  }
}

/** Commander has already printed its own errors; everything else is printed here. */
function report(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  if (error instanceof UsageError) {
    process.stderr.write(`jobloom: ${error.message}\n(run with --help for usage)\n`);
    return EXIT_USAGE;
  }
  process.stderr.write(`jobloom: ${describeFailure(error)}\n`);
  return EXIT_FAILED;
}

/**
 * The message, then each cause's, then where the deepest cause was thrown: for a failed
 * executor that is the user's own code, inside its thread.
 */
function describeFailure(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  let deepest: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    const text = current instanceof Error ? `${current.name}: ${current.message}` : String(current);
    if (!lines.some((line) => line.includes(text))) {
      lines.push(depth === 0 ? text : `  caused by ${text}`);
    }
    deepest = current;
    current = current instanceof Error ? current.cause : undefined;
  }
  const frames = deepest instanceof Error && deepest !== error ? framesOf(deepest) : [];
  return [...lines, ...frames.map((frame) => `    ${frame}`)].join('\n');
}

function framesOf(error: Error): string[] {
  return (error.stack ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('at '));
}

process.exitCode = await main(process.argv.slice(2));
