import { StoreError } from '../errors.js';

/**
 * Turns what SQLite (or the file system) throws into a StoreError whose message names the
 * file, what the store was doing and the cause in words, with the original error as `cause`.
 * Codes: ERR_STORE_CORRUPT when the file cannot be read as a jobloom database, otherwise
 * ERR_STORE_UNAVAILABLE (locked, read-only, full, missing): conditions an operator can fix.
 */

interface Cause {
  /** The start of the codes it covers: `SQLITE_BUSY` covers `SQLITE_BUSY_TIMEOUT` too. */
  prefix: string;
  words: string;
  corrupt?: boolean;
}

const CAUSES: readonly Cause[] = [
  {
    prefix: 'SQLITE_BUSY',
    words:
      'the database is locked by another connection (a SQLite store is used by one store in one process at a time)',
  },
  { prefix: 'SQLITE_LOCKED', words: 'the database is locked by another connection' },
  { prefix: 'SQLITE_NOTADB', words: 'the file is not a SQLite database', corrupt: true },
  { prefix: 'SQLITE_CORRUPT', words: 'the database file is corrupt', corrupt: true },
  { prefix: 'SQLITE_FULL', words: 'the disk is full or the database reached maxSizeBytes' },
  { prefix: 'SQLITE_READONLY', words: 'the database file is read-only' },
  { prefix: 'SQLITE_CANTOPEN', words: 'the file cannot be opened' },
  { prefix: 'SQLITE_IOERR', words: 'a disk I/O error occurred' },
  { prefix: 'SQLITE_PERM', words: 'permission denied' },
  { prefix: 'SQLITE_CONSTRAINT', words: 'a record with this id already exists' },
  { prefix: 'EACCES', words: 'permission denied (the file or its directory is read-only)' },
  { prefix: 'EPERM', words: 'the file is read-only or immutable' },
  { prefix: 'EROFS', words: 'the file is on a read-only file system' },
  { prefix: 'ENOENT', words: 'the file or its directory does not exist' },
];

/** `doing` reads as a clause: "cannot open", "cannot write a batch of 12 changes". */
export function sqliteStoreError(file: string, doing: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;

  const code = codeOf(error);
  const cause = code === undefined ? undefined : CAUSES.find((c) => code.startsWith(c.prefix));
  const detail = error instanceof Error ? error.message : String(error);
  const words = cause ? `${cause.words} (${code}: ${detail})` : detail;

  return new StoreError(`sqlite store ${file}: ${doing}: ${words}`, {
    cause: error,
    code: cause?.corrupt ? 'ERR_STORE_CORRUPT' : 'ERR_STORE_UNAVAILABLE',
  });
}

/** A StoreError for a condition this store detects itself, with no SQLite error behind it. */
export function sqliteStoreRefusal(file: string, doing: string, words: string): StoreError {
  return new StoreError(`sqlite store ${file}: ${doing}: ${words}`, { code: 'ERR_STORE_CORRUPT' });
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A StoreError as it crosses from the store's thread: plain data. */
export interface StoreErrorData {
  message: string;
  code: string;
  cause?: { name: string; message: string; code?: string };
}

export function storeErrorData(error: StoreError): StoreErrorData {
  const data: StoreErrorData = { message: error.message, code: error.code };
  const cause = error.cause;
  if (cause instanceof Error) {
    data.cause = { name: cause.name, message: cause.message };
    const code = codeOf(cause);
    if (code !== undefined) data.cause.code = code;
  }
  return data;
}

/** The StoreError again, its cause an Error with the original's name, message and code. */
export function storeErrorFrom(data: StoreErrorData): StoreError {
  const cause =
    data.cause && Object.assign(new Error(data.cause.message), data.cause, { stack: undefined });
  return new StoreError(data.message, {
    code: data.code as StoreError['code'],
    ...(cause ? { cause } : {}),
  });
}
