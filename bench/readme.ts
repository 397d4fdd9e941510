/**
 * `npm run bench:readme`: copies the tables the benchmarks wrote (bench/results/NAME.md) into
 * README.md between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`, so every figure
 * in the README comes from a run and none is typed in.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readmePath = `${root}README.md`;

function update(readme: string, name: string): string {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from === -1 || to < from) return readme;
  const results = `${root}bench/results/${name}.md`;
  if (!existsSync(results)) {
    console.log(`${name}: no ${results} yet; run its benchmark first`);
    return readme;
  }
  const table = readFileSync(results, 'utf8').trim();
  console.log(`${name}: README updated from bench/results/${name}.md`);
  return `${readme.slice(0, from + start.length)}\n${table}\n${readme.slice(to)}`;
}

let readme = readFileSync(readmePath, 'utf8');
const names = [...readme.matchAll(/<!-- bench:([a-z-]+):start -->/g)].map(
  (match) => match[1] as string,
);
for (const name of names) readme = update(readme, name);
writeFileSync(readmePath, readme);
