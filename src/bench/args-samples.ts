import { readFile } from 'node:fs/promises';
import { InvalidOptionError } from '../errors.js';

/**
 * Arguments for benchmark instances, read from text: one JSON value, or a JSON Lines file
 * (one JSON value per line; blank lines are skipped). Errors name the option and, for a file,
 * the line, so a user can find the bad sample.
 */

/** Parses one JSON value; `path` names where it came from in the error. */
export function parseArgsJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? ` (${error.message})` : '';
    throw new InvalidOptionError(path, `a JSON value${detail}`, text, { cause: error });
  }
}

/** Reads a JSON Lines file of samples; at least one line must hold a value. */
export async function readArgsSamples(file: string, path = 'argsFile'): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidOptionError(path, 'a readable JSON Lines file', file, { cause: error });
  }

  const samples: unknown[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    samples.push(parseArgsJson(line, `${path} line ${i + 1}`));
  });
  if (samples.length === 0) {
    throw new InvalidOptionError(path, 'a JSON Lines file with at least one sample', file);
  }
  return samples;
}
