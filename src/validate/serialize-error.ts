import type { SerializedError } from '../types.js';

/** Causes deeper than this are cut: a cause chain can be cyclic. */
const MAX_CAUSE_DEPTH = 8;

/** Turns anything thrown into plain data that can cross threads and enter a store. */
export function serializeError(thrown: unknown, depth = 0): SerializedError {
  if (!(thrown instanceof Error)) {
    return { name: 'NonErrorThrown', message: describeThrown(thrown) };
  }

  const serialized: SerializedError = { name: thrown.name, message: thrown.message };
  if (thrown.stack !== undefined) serialized.stack = thrown.stack;

  const code = (thrown as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') serialized.code = String(code);

  if (thrown.cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    serialized.cause = serializeError(thrown.cause, depth + 1);
  }
  return serialized;
}

/** Rebuilds an Error from its serialized form, with name, stack, code and causes. */
export function deserializeError(serialized: SerializedError): Error {
  const error = new Error(serialized.message, {
    cause: serialized.cause ? deserializeError(serialized.cause) : undefined,
  });
  if (serialized.cause === undefined) delete error.cause;
  error.name = serialized.name;
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  if (serialized.code !== undefined) Object.assign(error, { code: serialized.code });
  return error;
}

function describeThrown(thrown: unknown): string {
  if (typeof thrown === 'string') return thrown;
  try {
    return `a non-Error value was thrown: ${JSON.stringify(thrown)}`;
  } catch {
    return `a non-Error value was thrown: ${String(thrown)}`;
  }
}
