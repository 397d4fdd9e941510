import { closeSync, openSync, readSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import { sqliteStoreRefusal } from './sqlite-errors.js';

/**
 * The schema of a jobloom SQLite file, versioned with `PRAGMA user_version`.
 *
 * MIGRATIONS is ordered and append-only: entry i takes a file from version i to i + 1, and a
 * released entry is never edited. On open, every migration past the file's version runs in
 * one transaction together with the new `user_version`, so a crash mid-way leaves the file at
 * its old version. A file whose version is newer than this code knows, or that belongs to
 * another application (see APPLICATION_ID), is refused untouched.
 *
 * Time columns hold ms since the epoch. Values are JSON text (see sqlite-json.ts).
 *
 * History and logs refer to their instance by its `seq`, an integer given in creation order
 * (the instance table's rowid), and by nothing else: queries join the instance for its id and
 * kind. Ids may be random (the manager makes time-ordered UUIDs, but a caller may write any
 * id), and an index keyed by random ids takes each new entry on a random page, which every
 * commit rewrites into the WAL; keyed by `seq`, the entries of recent instances sit together
 * at the end of the index, and a batch touches a few pages. (Measured with the manager's write
 * pattern and random ids: a fifth less CPU time per job and half the system time.) For the
 * same reason the instance indexes end in `seq` (SQLite appends the rowid to every index key),
 * not in the id: a query's order (`created_at, id`) takes the index for `created_at` and sorts
 * only the rows that tie on it.
 *
 * History and logs carry no foreign key: the writer skips lines for instances it does not
 * hold, and a constraint failing would fail the whole batch. Deleting an instance deletes its
 * history and logs by trigger.
 */

const VERSION_1 = `
CREATE TABLE instances (
  seq INTEGER PRIMARY KEY, -- the row's place in creation order; history and logs refer to it
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  args TEXT,
  priority INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  max_retries INTEGER NOT NULL, -- Infinity (unlimited) is kept as a REAL
  timeout_ms INTEGER,
  backoff TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  result TEXT,
  error TEXT,
  progress TEXT,
  schedule_id TEXT,
  due_for INTEGER,
  catch_up INTEGER,
  owner TEXT,
  lease_until INTEGER
);
CREATE INDEX instances_by_created ON instances (created_at, id);
CREATE INDEX instances_by_kind ON instances (kind, created_at, id);
CREATE INDEX instances_by_state ON instances (state, created_at, id);
CREATE INDEX instances_by_due ON instances (state, due_at, priority);
CREATE INDEX instances_by_schedule ON instances (schedule_id) WHERE schedule_id IS NOT NULL;
CREATE INDEX instances_by_finished ON instances (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE transitions (
  instance_seq INTEGER NOT NULL,
  instance_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  error TEXT,
  result TEXT,
  reason TEXT
);
CREATE INDEX transitions_by_instance ON transitions (instance_seq, at, seq);
CREATE INDEX transitions_by_time ON transitions (at, seq);

CREATE TABLE logs (
  instance_seq INTEGER NOT NULL,
  instance_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL,
  data TEXT,
  at INTEGER NOT NULL,
  seq INTEGER NOT NULL
);
CREATE INDEX logs_by_instance ON logs (instance_seq, at, seq);
CREATE INDEX logs_by_time ON logs (at, seq);

CREATE TRIGGER instances_delete_history AFTER DELETE ON instances BEGIN
  DELETE FROM transitions WHERE instance_seq = old.seq;
  DELETE FROM logs WHERE instance_seq = old.seq;
END;

CREATE TABLE schedules (
  id TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL,
  spec TEXT NOT NULL,
  paused INTEGER NOT NULL,
  next_run_at INTEGER,
  last_run_at INTEGER,
  run_count INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
`;

/**
 * Version 2 makes a short job cheaper to write (a third fewer instructions on the store's
 * thread, a fifth fewer bytes): history and log rows lose the id and kind of their instance,
 * which the instance row holds; the instance indexes end in `seq` instead of the id, which
 * took string comparisons and 36 bytes an entry; and the index of due instances goes, since
 * only `claim` read it, which a store used by one process serves from the state index.
 */
const VERSION_2 = `
DROP INDEX instances_by_created;
CREATE INDEX instances_by_created ON instances (created_at);
DROP INDEX instances_by_kind;
CREATE INDEX instances_by_kind ON instances (kind, created_at);
DROP INDEX instances_by_state;
CREATE INDEX instances_by_state ON instances (state, created_at);
DROP INDEX instances_by_due;

ALTER TABLE transitions DROP COLUMN instance_id;
ALTER TABLE transitions DROP COLUMN kind;
ALTER TABLE logs DROP COLUMN instance_id;
ALTER TABLE logs DROP COLUMN kind;
`;

export const MIGRATIONS: readonly string[] = [VERSION_1, VERSION_2];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * `PRAGMA application_id` of a jobloom file ("jblm" in ASCII), set when its schema is created.
 * A file with another id, or with tables but no id, belongs to something else and is refused.
 */
export const APPLICATION_ID = 0x6a626c6d;

/** What the file header says: the schema version and the application that owns the file. */
export interface SchemaHeader {
  version: number;
  applicationId: number;
}

/** Where a SQLite file's header keeps these: 4 bytes each, big-endian. */
const USER_VERSION_OFFSET = 60;
const APPLICATION_ID_OFFSET = 68;
const HEADER_MAGIC = 'SQLite format 3\0';

/**
 * Reads the header without SQLite, so a file that will be refused is refused before a
 * connection could touch it (even a read may checkpoint a WAL left behind into the file).
 * Returns undefined for a missing, empty or non-SQLite file: SQLite judges those itself.
 */
export function readHeader(file: string): SchemaHeader | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const header = Buffer.alloc(APPLICATION_ID_OFFSET + 4);
    const read = readSync(fd, header, 0, header.length, 0);
    if (read < header.length || header.toString('latin1', 0, 16) !== HEADER_MAGIC) return undefined;
    return {
      version: header.readUInt32BE(USER_VERSION_OFFSET),
      applicationId: header.readUInt32BE(APPLICATION_ID_OFFSET),
    };
  } finally {
    closeSync(fd);
  }
}

/** The header as SQLite sees it, WAL included. */
export function headerOf(db: Database): SchemaHeader {
  return {
    version: db.pragma('user_version', { simple: true }) as number,
    applicationId: db.pragma('application_id', { simple: true }) as number,
  };
}

/** Refuses another application's database, or one written by a newer jobloom. */
export function checkHeader(file: string, { version, applicationId }: SchemaHeader): void {
  const ours = applicationId === APPLICATION_ID;
  if (!ours && (applicationId !== 0 || version !== 0)) {
    const id = `application_id 0x${applicationId.toString(16)}, user_version ${version}`;
    throw sqliteStoreRefusal(
      file,
      'cannot open',
      `it is a SQLite database of another application (${id})`,
    );
  }
  if (version > SCHEMA_VERSION) {
    const words = `its schema version is ${version}, newer than ${SCHEMA_VERSION} which this jobloom knows; open it with a newer jobloom`;
    throw sqliteStoreRefusal(file, 'cannot open', words);
  }
}

/** Brings the schema to SCHEMA_VERSION in one transaction. */
export function migrate(db: Database, file: string): void {
  const header = headerOf(db);
  checkHeader(file, header);
  if (header.applicationId === 0) checkEmpty(db, file);
  if (header.version === SCHEMA_VERSION) return;

  db.transaction(() => {
    for (const sql of MIGRATIONS.slice(header.version)) db.exec(sql);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.pragma(`application_id = ${APPLICATION_ID}`);
  }).immediate();
}

/** A file without jobloom's id is taken only when it holds nothing at all. */
function checkEmpty(db: Database, file: string): void {
  const objects = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get() as number;
  if (objects > 0) {
    const words = `it is a SQLite database of another application (${objects} schema objects, no jobloom application_id)`;
    throw sqliteStoreRefusal(file, 'cannot open', words);
  }
}
