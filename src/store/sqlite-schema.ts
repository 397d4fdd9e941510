import { closeSync, openSync, readSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import { sqliteStoreRefusal } from './sqlite-errors.js';

/**
 * The schema of a jobloom SQLite file, versioned with `PRAGMA user_version`.
 *
 * MIGRATIONS is ordered and append-only: entry i takes a file from version i to i + 1, and a
 * released entry is never edited. On open, every migration past the file's version runs in
 * one transaction together with the new `user_version`, so a crash mid-way leaves the file at
 * its old version. A file whose version is newer than this code knows is refused untouched.
 *
 * Time columns hold ms since the epoch. Values are JSON text (see sqlite-json.ts). History and
 * logs carry no foreign key: a stray line for an instance already pruned must not fail the
 * whole batch it came in. Deleting an instance deletes its history and logs by trigger.
 */

const VERSION_1 = `
CREATE TABLE instances (
  id TEXT PRIMARY KEY NOT NULL,
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
CREATE INDEX transitions_by_instance ON transitions (instance_id, at, seq);
CREATE INDEX transitions_by_time ON transitions (at, seq);

CREATE TABLE logs (
  instance_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL,
  data TEXT,
  at INTEGER NOT NULL,
  seq INTEGER NOT NULL
);
CREATE INDEX logs_by_instance ON logs (instance_id, at, seq);
CREATE INDEX logs_by_time ON logs (at, seq);

CREATE TRIGGER instances_delete_history AFTER DELETE ON instances BEGIN
  DELETE FROM transitions WHERE instance_id = old.id;
  DELETE FROM logs WHERE instance_id = old.id;
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

export const MIGRATIONS: readonly string[] = [VERSION_1];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Where a SQLite file's header keeps `user_version`: 4 bytes, big-endian. */
const USER_VERSION_OFFSET = 60;
const HEADER_MAGIC = 'SQLite format 3\0';

/**
 * Reads `user_version` from the file header without SQLite, so a newer file is refused before
 * a connection could touch it (even a read may checkpoint a WAL left behind into the file).
 * Returns undefined for a missing, empty or non-SQLite file: SQLite judges those itself.
 */
export function readHeaderVersion(file: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const header = Buffer.alloc(USER_VERSION_OFFSET + 4);
    const read = readSync(fd, header, 0, header.length, 0);
    if (read < header.length || header.toString('latin1', 0, 16) !== HEADER_MAGIC) return undefined;
    return header.readUInt32BE(USER_VERSION_OFFSET);
  } finally {
    closeSync(fd);
  }
}

/** Refuses a file written by a newer jobloom; the file is left as it was. */
export function checkVersion(file: string, version: number): void {
  if (version > SCHEMA_VERSION) {
    const words = `its schema version is ${version}, newer than ${SCHEMA_VERSION} which this jobloom knows; open it with a newer jobloom`;
    throw sqliteStoreRefusal(file, 'cannot open', words);
  }
}

/** Brings the schema to SCHEMA_VERSION in one transaction; returns the version it found. */
export function migrate(db: Database, file: string): number {
  const found = db.pragma('user_version', { simple: true }) as number;
  checkVersion(file, found);
  if (found === SCHEMA_VERSION) return found;

  db.transaction(() => {
    for (const sql of MIGRATIONS.slice(found)) db.exec(sql);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
  return found;
}
