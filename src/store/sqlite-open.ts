import { accessSync, constants, type Stats, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { StoreError } from '../errors.js';
import { sqliteStoreError } from './sqlite-errors.js';
import type { EngineOptions } from './sqlite-options.js';
import { checkHeader, headerOf, migrate, readHeader } from './sqlite-schema.js';

/**
 * Page cache of the connection, in KiB (SQLite's default is 2,000). Large enough for the
 * indexes a busy store touches between checkpoints; memory is taken only as pages are read.
 */
const CACHE_KIB = 16_384;

/**
 * The WAL's length, in pages, at which SQLite checkpoints it itself, at the end of a commit
 * (its default is 1,000). The store's thread checkpoints when it has nothing else to do (see
 * sqlite-thread-entry.ts), so SQLite's own checkpoint is the backstop of a burst that keeps
 * the thread busy: 16,384 pages of 4 KiB (64 MiB) hold the WAL of some 15,000 short jobs.
 */
export const WAL_CHECKPOINT_PAGES = 16_384;

/**
 * The files SqliteStores of this process have open, by device and inode (so two spellings of
 * one path, or two hard links, are one file), and those being opened, by absolute path.
 * Checked before anything touches the file: on POSIX, closing any descriptor of a file drops
 * every lock this process holds on it, so even reading the header of a file another store here
 * has open would let other processes in. (A connection this process opened on the file by
 * other means is not covered: keep one.) This lives on the thread that creates stores; each
 * store's connection lives on a thread of its own (see sqlite-thread.ts).
 */
const openFiles = new Set<string>();
const openingPaths = new Set<string>();

/** A file claimed by a store of this process; give it back with `release`. */
export class FileClaim {
  readonly #path: string;
  #key: string | undefined;

  constructor(path: string) {
    this.#path = path;
    openingPaths.add(path);
  }

  /** The store's connection is open: the file exists and is known by its inode from now on. */
  opened(): void {
    openingPaths.delete(this.#path);
    this.#key = keyOf(statSync(this.#path));
    openFiles.add(this.#key);
  }

  release(): void {
    openingPaths.delete(this.#path);
    if (this.#key !== undefined) openFiles.delete(this.#key);
    this.#key = undefined;
  }
}

/**
 * Checks, without SQLite, what can be checked before a file is opened (another store of this
 * process, the directory, writability, owner and schema version in the header), so that a
 * file that will be refused is never opened by SQLite at all; then claims the file for this
 * store. Throws a StoreError that names the file and the cause, leaving it as it was.
 */
export function claimFile(file: string): FileClaim {
  checkFileSystem(file);
  const header = readHeader(file);
  if (header !== undefined) checkHeader(file, header);
  return new FileClaim(resolve(file));
}

/**
 * Opens the connection to a file `claimFile` accepted, on the store's own thread, or throws a
 * StoreError that names the file and the cause. The connection is set up so:
 * - `locking_mode=EXCLUSIVE`, set before the first read: the first read takes the file's
 *   lock and the connection keeps it until it closes. A second store in another process fails
 *   to open after `busyTimeoutMs` (one in this process at once, see openFiles). The operating
 *   system releases the lock when a process dies, so a restart after a crash opens the file
 *   at once. It also means WAL needs no shared-memory file and no later call waits on a lock.
 * - `journal_mode=WAL`: one append per committed batch, no rollback journal to rewrite.
 * - `synchronous` NORMAL or FULL, as chosen (what each promises is in SqliteStoreOptions).
 * - a page cache of CACHE_KIB.
 * - `wal_autocheckpoint` at WAL_CHECKPOINT_PAGES.
 * - `temp_store=MEMORY`: the statement journals and temporary tables of a batch's statements
 *   (an UPDATE … RETURNING, an INSERT that may hit the id's UNIQUE index) stay in memory. On
 *   a temporary file they cost 10–20 KB of writes per short job in a burst of 1,000-change
 *   batches, three to five times what the WAL itself takes (bench/sqlite.ts, write(2) bytes).
 * - `max_page_count` when `maxSizeBytes` is set: a write past it fails like a full disk.
 * - then the migrations, in one transaction.
 */
export function connect(options: EngineOptions): BetterSqlite3.Database {
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(options.path, { timeout: options.busyTimeoutMs });
  } catch (error) {
    throw sqliteStoreError(options.path, 'cannot open', error);
  }

  try {
    configure(db, options);
    migrate(db, options.path);
  } catch (error) {
    db.close();
    throw sqliteStoreError(options.path, 'cannot open', error);
  }
  return db;
}

function configure(db: BetterSqlite3.Database, options: EngineOptions): void {
  db.pragma('locking_mode = EXCLUSIVE');
  checkHeader(options.path, headerOf(db));

  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') throw new Error(`journal_mode stayed ${String(mode)}; WAL is required`);
  db.pragma(`cache_size = -${CACHE_KIB}`);
  db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
  db.pragma('temp_store = MEMORY');
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);

  if (Number.isFinite(options.maxSizeBytes)) {
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxSizeBytes / pageSize))}`);
  }
}

/**
 * Fails early, in words, for what SQLite would report vaguely or not at all: a file another
 * store of this process has open (or is opening), a missing directory, a path that is a
 * directory, a file this process may not write (access(2) also refuses root an immutable file
 * or a read-only mount). Nothing here opens the file: see openFiles.
 */
function checkFileSystem(file: string): void {
  try {
    const directory = statSync(dirname(file));
    if (!directory.isDirectory()) throw coded('ENOTDIR', 'its directory is not a directory');
    if (openingPaths.has(resolve(file)))
      throw coded('SQLITE_BUSY', 'another store in this process');

    const stat = statSync(file, { throwIfNoEntry: false });
    if (stat === undefined) return;
    if (openFiles.has(keyOf(stat))) throw coded('SQLITE_BUSY', 'another store in this process');
    if (stat.isDirectory()) throw new Error('the path is a directory, not a database file');
    accessSync(file, constants.R_OK | constants.W_OK);
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw sqliteStoreError(file, 'cannot open', error);
  }
}

function keyOf(stat: Stats): string {
  return `${stat.dev}:${stat.ino}`;
}

function coded(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}
