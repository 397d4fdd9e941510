import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../src/bench/bench-report.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const main = join(root, 'dist/src/cli/main.js');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would; `tsx` adds the TypeScript loader. */
function cli(args: readonly string[], options: { tsx?: boolean } = {}): Promise<Outcome> {
  const node = options.tsx ? ['--import', 'tsx', main] : [main];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...node, ...args],
      { cwd: root, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let dir: string;
beforeAll(() => {
  expect(existsSync(main), 'run `npm run build` first').toBe(true);
  dir = mkdtempSync(join(tmpdir(), 'jobloom-cli-bench-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const readReport = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as BenchReport;

describe('jobloom bench', () => {
  it('measures the bundled CPU-heavy executor and writes raw figures and a chart', async () => {
    const json = join(dir, 'hash.json');
    const chart = join(dir, 'hash.svg');
    const args = ['--workers', 'dist/workers', '--kind', 'hash', '--args', '{"rounds":100}'];
    const out = await cli([
      'bench',
      ...args,
      ...['--instances', '30', '--max-threads', '2', '--json', json, '--chart', chart],
    ]);

    expect(out.stderr).toContain('bench: pool size 1/2, run 1/6 (warm-up)');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Recommended pool size: [12]\n\s+rule: the smallest pool size/);
    const report = readReport(json);
    expect(report.kind).toBe('hash');
    expect(report.instances).toBe(30);
    expect(report.sizes.map((s) => s.size)).toEqual([1, 2]);
    for (const size of report.sizes) {
      expect(size.runs).toHaveLength(5);
      expect(size.throughput.median).toBeGreaterThan(0);
      expect(size.runMsP50.median).toBeGreaterThan(0);
    }
    expect(report.sizes[0]?.speedup).toBe(1);
    expect([1, 2]).toContain(report.recommendation.size);
    expect(readFileSync(chart, 'utf8')).toMatch(/^<svg [\s\S]*<\/svg>\n$/);
  });

  it("measures a user's TypeScript executor under a TS loader, with samples from a file", async () => {
    const json = join(dir, 'checksum.json');
    const out = await cli(
      [
        'bench',
        ...['--workers', 'test/fixtures/bench-ts', '--kind', 'checksum'],
        ...['--args-file', 'test/fixtures/bench-samples.jsonl'],
        ...['--instances', '30', '--max-threads', '1', '--json', json],
      ],
      { tsx: true },
    );

    expect(out.stderr).not.toMatch(/jobloom:/);
    expect(out.code).toBe(0);
    const report = readReport(json);
    expect(report.samples).toBe(3);
    expect(report.sizes).toHaveLength(1);
    expect(report.recommendation.size).toBe(1);
  });

  it("fails with the executor's error and exit code 1 when an instance fails", async () => {
    const out = await cli(
      ['bench', '--workers', 'test/fixtures/bench-ts', '--kind', 'broken', '--max-threads', '1'],
      { tsx: true },
    );
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('"broken" failed, so the benchmark stopped');
    expect(out.stderr).toContain('broken executor: it always fails');
    expect(out.stderr).toMatch(/at broken \(.*broken\.ts/);
  });

  it.each([
    { flags: ['--kind', 'hash', '--max-threads', '0'], says: '--max-threads: expected an integer' },
    { flags: ['--kind', 'hash', '--runs', '3'], says: '--runs: expected an integer from 5' },
    { flags: ['--kind', 'hash', '--instances', 'many'], says: "'--instances <n>' argument 'many'" },
    { flags: ['--kind', 'hash', '--args', '{"rounds":'], says: '--args: expected a JSON value' },
    { flags: ['--kind', 'nope'], says: '--kind: expected one of hash, report, sleep, trivial' },
    { flags: ['--kind', 'hash', '--colour', 'red'], says: "unknown option '--colour'" },
    { flags: [], says: "required option '--kind <kind>'" },
    {
      flags: ['--kind', 'hash', '--args', '{}', '--args-file', 'x.jsonl'],
      says: 'cannot be used with option',
    },
    {
      flags: ['--kind', 'hash', '--json', '/no/such/folder/out.json'],
      says: '--json: expected a file in an existing folder',
    },
  ])('exits with code 2 and names the flag: $says', async ({ flags, says }) => {
    const out = await cli(['bench', '--workers', 'dist/workers', ...flags]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(says);
    expect(out.stdout).toBe('');
  });

  it('exits with code 2 for a folder that does not exist, and 0 for --help', async () => {
    const missing = await cli(['bench', '--workers', 'no/such/folder', '--kind', 'hash']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--workers: expected an existing folder of worker modules');

    const help = await cli(['bench', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--max-threads <n>');
  });
});
