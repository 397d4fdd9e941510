import { fileURLToPath } from 'node:url';

export interface ThreadEntry {
  /** The module Piscina loads in every thread. */
  filename: string;
  /** Node flags for the threads, when jobloom must set them. */
  execArgv?: string[];
}

/**
 * Where the thread code is. Built, it sits beside this file as JavaScript. Run from source
 * (jobloom's own tests), it is TypeScript, and the threads load it through tsx; a user's
 * own TypeScript loader carries over to the threads by inheriting the process's flags.
 */
export function threadEntry(execArgv?: string[]): ThreadEntry {
  const fromSource = import.meta.url.endsWith('.ts');
  const filename = fileURLToPath(
    new URL(`./thread-entry.${fromSource ? 'ts' : 'js'}`, import.meta.url),
  );
  const flags = execArgv ?? process.execArgv;
  if (!fromSource || flags.some((flag) => flag.includes('tsx'))) {
    return execArgv ? { filename, execArgv } : { filename };
  }
  return { filename, execArgv: [...flags, '--import', 'tsx'] };
}
