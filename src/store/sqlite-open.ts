import { closeSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sqliteStoreError } from './sqlite-errors.js';
import type { ResolvedSqliteStoreOptions } from './sqlite-options.js';
import { checkHeader, headerOf, migrate, readHeader } from './sqlite-schema.js';

/**
 * Page cache of the connection, in KiB (SQLite's default is 2,000). Large enough for the
 * indexes a busy store touches between checkpoints; memory is taken only as pages are read.
 */
const CACHE_KIB = 16_384;

/**
 * Opens a jobloom SQLite file, or refuses it with a StoreError that names the file and the
 * cause, leaving it as it was.
 *
 * The checks that need no SQLite come first (directory, writability, owner and schema version
 * in the header), so a file that will be refused is never opened by SQLite at all. Then the
 * connection is set up:
 * - `locking_mode=EXCLUSIVE`, set before the first read: the first read takes the file's
 *   lock and the connection keeps it until it closes. A second store, in this process or
 *   another, fails to open after `busyTimeoutMs`. The operating system releases the lock
 *   when a process dies, so a restart after a crash opens the file at once. It also means
 *   WAL needs no shared-memory file and no later call waits on a lock.
 * - `journal_mode=WAL`: one append per committed batch, no rollback journal to rewrite.
 * - `synchronous` NORMAL or FULL, as chosen (what each promises is in SqliteStoreOptions).
 * - a page cache of CACHE_KIB.
 * - `max_page_count` when `maxSizeBytes` is set: a write past it fails like a full disk.
 * - then the migrations, in one transaction.
 */
export function openDatabase(options: ResolvedSqliteStoreOptions): BetterSqlite3.Database {
  const file = options.path;
  checkFileSystem(file);

  const header = readHeader(file);
  if (header !== undefined) checkHeader(file, header);

  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(file, { timeout: options.busyTimeoutMs });
  } catch (error) {
    throw sqliteStoreError(file, 'cannot open', error);
  }

  try {
    configure(db, options);
    migrate(db, file);
    return db;
  } catch (error) {
    db.close();
    throw sqliteStoreError(file, 'cannot open', error);
  }
}

function configure(db: BetterSqlite3.Database, options: ResolvedSqliteStoreOptions): void {
  db.pragma('locking_mode = EXCLUSIVE');
  checkHeader(options.path, headerOf(db));

  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') throw new Error(`journal_mode stayed ${String(mode)}; WAL is required`);
  db.pragma(`cache_size = -${CACHE_KIB}`);
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);

  if (Number.isFinite(options.maxSizeBytes)) {
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxSizeBytes / pageSize))}`);
  }
}

/**
 * Fails early, in words, for what SQLite would report vaguely: a missing directory, a path
 * that is a directory, a file this process cannot write (as root, only an immutable file or a
 * read-only mount refuses, which the open below notices where a permission check would not).
 */
function checkFileSystem(file: string): void {
  const directory = dirname(file);
  try {
    if (!statSync(directory).isDirectory()) throw enoent(`${directory} is not a directory`);
  } catch (error) {
    throw sqliteStoreError(file, 'cannot open', error);
  }

  const stat = statSync(file, { throwIfNoEntry: false });
  if (stat === undefined) return;
  try {
    if (stat.isDirectory()) throw new Error('the path is a directory, not a database file');
    closeSync(openSync(file, 'r+'));
  } catch (error) {
    throw sqliteStoreError(file, 'cannot open', error);
  }
}

function enoent(message: string): Error {
  return Object.assign(new Error(message), { code: 'ENOENT' });
}
