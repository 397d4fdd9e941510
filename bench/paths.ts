import { fileURLToPath } from 'node:url';

/**
 * Where the compiled worker modules and bench scripts are. The benchmarks and the demo run
 * from `dist/` as plain JavaScript (`npm run bench`, `npm run demo`), so these are `.js` files.
 */
export function workerModule(name: string): string {
  return fileURLToPath(new URL(`../workers/${name}.js`, import.meta.url));
}

export function benchScript(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}
