/**
 * The binary views that structured clone carries into a thread and the stores write down by
 * class name: every typed array, and DataView. One list, so the boundary check and the stores
 * always agree on what binary data an instance may hold.
 */
export type BinaryView = new (buffer: ArrayBuffer) => ArrayBufferView;

export const BINARY_VIEWS: Readonly<Record<string, BinaryView>> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
};
