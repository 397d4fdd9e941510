import { fileURLToPath } from 'node:url';

/** A compiled file of this folder: the peers run from `dist/bench/peers/` as plain JavaScript. */
export function peerFile(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}
