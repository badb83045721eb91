/**
 * How loaded the machine was while a run measured: load average, CPU pressure (PSI, where the
 * kernel has it), the CPU other processes used, and the busiest of them. Cheap to take: a
 * few /proc files at the start and end, and one 100 ms look at every process's CPU time.
 */
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import type { BusyProcess, LoadSnapshot, RunLoad } from './load-types.js';
import { META_FILE, type RunMeta } from './schema.js';

export type { BusyProcess, LoadSnapshot, RunLoad } from './load-types.js';

/** Linux reports CPU times in /proc in units of USER_HZ, which is 100 on every architecture. */
const USER_HZ = 100;
/** How long processes are watched to find the busy ones. */
const BUSY_WINDOW_MS = 100;
/** A process using at least this share of one core during the window is listed. */
const BUSY_SHARE = 0.2;
const MAX_BUSY = 8;

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Busy and total CPU seconds of the machine (the first line of /proc/stat). */
export function parseProcStat(text: string | null): { busy: number; total: number } | null {
  const line = text?.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return null;
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (ticks.length < 4 || ticks.some((t) => !Number.isFinite(t))) return null;
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = ticks[3]! + (ticks[4] ?? 0); // idle and iowait
  return { busy: (total - idle) / USER_HZ, total: total / USER_HZ };
}

/** The `some` line of /proc/pressure/cpu. */
export function parsePressure(text: string | null): LoadSnapshot['cpuPressure'] {
  const m = /^some avg10=([\d.]+) avg60=([\d.]+) avg300=[\d.]+ total=(\d+)/m.exec(text ?? '');
  return m ? { avg10: Number(m[1]), avg60: Number(m[2]), totalUs: Number(m[3]) } : null;
}

/** Command name and CPU seconds (user + system) of a process from its /proc/PID/stat. */
export function parsePidStat(text: string | null, withChildren = false): { command: string; cpu: number } | null {
  if (!text) return null;
  // the command is in parentheses and may itself hold spaces and parentheses
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const command = text.slice(text.indexOf('(') + 1, close);
  const rest = text.slice(close + 2).split(' ');
  // fields 14-17 of stat: utime stime cutime cstime (rest[0] is field 3)
  const [utime, stime, cutime, cstime] = [rest[11], rest[12], rest[13], rest[14]].map(Number);
  if (![utime, stime].every(Number.isFinite)) return null;
  const ticks = utime! + stime! + (withChildren ? (cutime ?? 0) + (cstime ?? 0) : 0);
  return { command, cpu: ticks / USER_HZ };
}

function processTimes(): Map<number, { command: string; cpu: number }> {
  const out = new Map<number, { command: string; cpu: number }>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const s = parsePidStat(read(`/proc/${name}/stat`));
    if (s) out.set(Number(name), s);
  }
  return out;
}

/** Other processes that used CPU during a short window (this process left out). */
async function busyProcesses(): Promise<BusyProcess[]> {
  const before = processTimes();
  if (!before.size) return [];
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, BUSY_WINDOW_MS));
  const seconds = (performance.now() - started) / 1000;
  const busy: BusyProcess[] = [];
  for (const [pid, now] of processTimes()) {
    const then = before.get(pid);
    if (!then || pid === process.pid) continue;
    const share = (now.cpu - then.cpu) / seconds;
    if (share >= BUSY_SHARE) busy.push({ pid, command: now.command, cpuPercent: Math.round(share * 100) });
  }
  return busy.sort((a, b) => b.cpuPercent - a.cpuPercent).slice(0, MAX_BUSY);
}

/** The machine's load now (see {@link LoadSnapshot}). */
export async function loadSnapshot(): Promise<LoadSnapshot> {
  const stat = parseProcStat(read('/proc/stat'));
  const own = parsePidStat(read('/proc/self/stat'), true);
  return {
    at: new Date().toISOString(),
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    cpuPressure: parsePressure(read('/proc/pressure/cpu')),
    machineBusy: stat?.busy ?? null,
    machineTotal: stat?.total ?? null,
    own: own?.cpu ?? null,
    busy: await busyProcesses(),
  };
}

/** The load at the start of a run. */
export async function startLoad(): Promise<RunLoad> {
  return { cores: availableParallelism(), start: await loadSnapshot() };
}

/** The end snapshot, with the averages between start and end. */
export function endLoad(start: LoadSnapshot, end: LoadSnapshot, cores: number): NonNullable<RunLoad['end']> {
  const wall = (Date.parse(end.at) - Date.parse(start.at)) / 1000;
  let otherCores: number | null = null;
  if (wall > 0 && start.machineBusy !== null && end.machineBusy !== null && start.own !== null && end.own !== null) {
    const other = end.machineBusy - start.machineBusy - (end.own - start.own);
    otherCores = Math.round(Math.min(cores, Math.max(0, other / wall)) * 100) / 100;
  }
  const stall =
    wall > 0 && start.cpuPressure && end.cpuPressure
      ? Math.round(Math.min(1, (end.cpuPressure.totalUs - start.cpuPressure.totalUs) / 1e6 / wall) * 1000) / 1000
      : null;
  return { ...end, otherCores, cpuStallShare: stall };
}

/**
 * Adds the end of the run's load to its meta.json (once the run has stopped writing it); a run
 * without a start snapshot, or a meta.json that cannot be read or written, is left as it is.
 */
export async function recordEndLoad(runDir: string, log?: Logger): Promise<void> {
  const file = join(runDir, META_FILE);
  let meta: RunMeta;
  try {
    meta = JSON.parse(readFileSync(file, 'utf8')) as RunMeta;
  } catch {
    return;
  }
  if (!meta.load?.start) return;
  meta.load.end = endLoad(meta.load.start, await loadSnapshot(), meta.load.cores);
  const temp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(temp, JSON.stringify(meta, null, 2) + '\n');
    renameSync(temp, file);
  } catch (e) {
    // the load is an extra: a full disk (already reported by the run) must not lose the meta.json there is
    rmSync(temp, { force: true });
    log?.debug(`the load at the end of the run is not in ${file}: ${(e as Error).message}`);
  }
}
