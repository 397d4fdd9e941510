/**
 * The local servers the queue peers need, and the CPU time their processes spend. A peer
 * whose server is not reachable is skipped with the reason, never silently.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import pg from 'pg';

export const PG_URL = process.env.JOBLOOM_PEERS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_HOST = process.env.JOBLOOM_PEERS_REDIS_HOST ?? '127.0.0.1';
export const REDIS_PORT = Number(process.env.JOBLOOM_PEERS_REDIS_PORT ?? 6379);
const CONNECT_TIMEOUT_MS = 2_000;

/** A connection string that tags every connection, so its backends can be found for CPU time. */
export function pgUrl(applicationName: string): string {
  const url = new URL(PG_URL);
  url.searchParams.set('application_name', applicationName);
  return url.toString();
}

/** The server's version, or the reason it cannot be reached. */
export async function probePostgres(): Promise<{ version?: string; error?: string }> {
  const client = new pg.Client({
    connectionString: PG_URL,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return { version: rows[0]?.server_version ?? 'unknown' };
  } catch (error) {
    return { error: `PostgreSQL at ${redact(PG_URL)} is not reachable (${messageOf(error)})` };
  } finally {
    await client.end().catch(() => {});
  }
}

/** PIDs of the PostgreSQL backends serving connections named `applicationName`. */
export async function postgresPids(applicationName: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    return rows.map((row) => row.pid);
  } finally {
    await client.end();
  }
}

/** Runs `statement` on a connection of its own (creating and dropping schemas). */
export async function pgExec(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Redis's version and process id from `INFO server`, or the reason it cannot be reached. */
export async function probeRedis(): Promise<{ version?: string; pid?: number; error?: string }> {
  try {
    const info = await redisInfo();
    const field = (name: string) => info.match(new RegExp(`^${name}:(.*)$`, 'm'))?.[1]?.trim();
    return { version: field('redis_version') ?? 'unknown', pid: Number(field('process_id')) };
  } catch (error) {
    return { error: `Redis at ${REDIS_HOST}:${REDIS_PORT} is not reachable (${messageOf(error)})` };
  }
}

/**
 * `INFO server` over a plain socket. Only this probe talks to Redis without a client library:
 * whether Redis is up must be known even when BullMQ's Redis driver is missing.
 */
function redisInfo(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: REDIS_HOST, port: REDIS_PORT });
    let text = '';
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
    socket.on('error', reject);
    socket.on('data', (data) => {
      text += data.toString('utf8');
      const header = text.match(/^\$(\d+)\r\n/);
      if (text.startsWith('-')) socket.destroy(new Error(text.trim()));
      else if (header && Buffer.byteLength(text) >= header[0].length + Number(header[1])) {
        socket.end();
        resolve(text.slice(header[0].length));
      }
    });
    socket.on('connect', () => socket.write('INFO server\r\n'));
  });
}

/**
 * CPU time, in ms, that processes `pids` have used so far (user + system, from /proc). Linux
 * counts it in clock ticks of 10 ms (USER_HZ 100), so short phases read in 10 ms steps. A pid
 * that no longer exists counts as 0.
 */
export function processCpuMs(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      out.set(pid, 0);
    }
  }
  return out;
}

export function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0]);
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}
