import { arch, availableParallelism, cpus, loadavg, platform, totalmem } from 'node:os';
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
  };
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
    `load average ${info.loadAverage} at start`,
  ].join(' · ');
}
