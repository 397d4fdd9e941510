import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

describe('TypeScript worker modules', () => {
  it('run for a user whose program uses a TypeScript loader, with the built package', async () => {
    expect(existsSync(`${root}/dist/src/index.js`), 'run `npm run build` first').toBe(true);
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/ts-user/app.ts'],
      {
        cwd: root,
        timeout: 60_000,
      },
    );
    expect(JSON.parse(stdout.trim())).toEqual([2, 4, 6]);
  });
});
