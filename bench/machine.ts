import { execFileSync } from 'node:child_process';
import { arch, availableParallelism, cpus, loadavg, platform, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  piscina: string;
  platform: string;
  date: string;
  /** The 1-minute load average when the bench started: other work on the machine skews it. */
  loadAverage: number;
  /** The code measured: a git commit, `-dirty` when the working tree had changes. */
  source: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    piscina: Piscina.version,
    platform: `${platform()} ${arch()}`,
    date: new Date().toISOString(),
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    source: sourceOf(),
  };
}

/**
 * `JOBLOOM_BENCH_SOURCE` when set (for a run outside a git checkout, such as an exported
 * commit), else what git says about the checkout the bench runs from.
 */
function sourceOf(): string {
  const given = process.env.JOBLOOM_BENCH_SOURCE;
  if (given) return given;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  try {
    const args = ['-C', root, 'describe', '--always', '--dirty'];
    return execFileSync('git', args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}

/** One line naming the machine, for the terminal and the Markdown file. */
export function machineLine(info: MachineInfo): string {
  const day = info.date.slice(0, 10);
  return [
    info.cpuModel,
    `${info.cores} cores`,
    `${info.memoryGiB} GiB`,
    `Node ${info.node}`,
    `piscina ${info.piscina}`,
    info.platform,
    day,
    `jobloom ${info.source}`,
    `load average ${info.loadAverage} at start`,
  ].join(' · ');
}
