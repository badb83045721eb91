import { readdirSync, readFileSync } from 'node:fs';

/** Server statistics that can be sampled from /proc while a load runs. */
export type ServerStat = 'cpu' | 'rss';
export const SERVER_STATS: readonly ServerStat[] = ['cpu', 'rss'];

/** Linux reports CPU times in /proc in units of USER_HZ, which is 100 on every architecture. */
const USER_HZ = 100;

interface Sample {
  /** Milliseconds (monotonic). */
  at: number;
  /** CPU seconds (user + system) of the whole process tree. */
  cpu: number;
  /** Resident set size of the whole process tree, KiB. */
  rss: number;
}

/** What a sampling window yields. */
export interface ServerStats {
  /**
   * Median over the sampling intervals of the server's CPU use, in percent of one core
   * (200 = two cores busy). Null when CPU was not sampled.
   */
  serverCpu: number | null;
  /** CPU use over the whole window, percent of one core. */
  serverCpuMean: number | null;
  /** Largest resident set size of the server's processes together, KiB. */
  serverMaxRss: number | null;
  /** Samples taken. */
  samples: number;
}

/** Process ids of `root` and all its descendants (from the parent ids in /proc/<pid>/stat). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of safeReaddir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(name));
    children.set(stat.ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Parent id and CPU seconds of one process, or null once it is gone. */
function readStat(pid: number): { ppid: number; cpu: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // the command name (field 2) may contain spaces and parentheses: fields follow the last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15
  return { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / USER_HZ };
}

/** Resident set size of one process in KiB (0 once it is gone). */
function readRss(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function sampleTree(root: number): Sample {
  let cpu = 0;
  let rss = 0;
  for (const pid of processTree(root)) {
    const s = readStat(pid);
    if (!s) continue;
    cpu += s.cpu;
    rss += readRss(pid);
  }
  return { at: performance.now(), cpu, rss };
}

/**
 * Samples a server's process tree (the process and every descendant, e.g. nginx's master and
 * workers) every `intervalSeconds` from /proc, from {@link start} until {@link stop}.
 */
export class ServerSampler {
  private samples: Sample[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pid: number,
    private readonly stats: readonly ServerStat[],
    private readonly intervalSeconds: number,
  ) {}

  start(): void {
    this.samples = [sampleTree(this.pid)];
    this.timer = setInterval(() => this.samples.push(sampleTree(this.pid)), this.intervalSeconds * 1000);
    // sampling never keeps the process alive on its own
    this.timer.unref();
  }

  stop(): ServerStats {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.samples.push(sampleTree(this.pid));
    return summarize(this.samples, this.stats, this.intervalSeconds);
  }
}

/** Reduces samples to the reported statistics (exported for tests). */
export function summarize(samples: readonly Sample[], stats: readonly ServerStat[], intervalSeconds: number): ServerStats {
  const cpuPercent = (a: Sample, b: Sample) => ((b.cpu - a.cpu) / ((b.at - a.at) / 1000)) * 100;
  const intervals: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const [a, b] = [samples[i - 1]!, samples[i]!];
    // the last interval is cut short by stop(); a very short one says little
    const short = b.at - a.at < intervalSeconds * 500;
    if (b.at > a.at && (!short || intervals.length === 0)) intervals.push(cpuPercent(a, b));
  }
  const first = samples[0];
  const last = samples[samples.length - 1];
  const withCpu = stats.includes('cpu') && intervals.length > 0;
  return {
    serverCpu: withCpu ? round(median(intervals)) : null,
    serverCpuMean: withCpu && first && last && last.at > first.at ? round(cpuPercent(first, last)) : null,
    serverMaxRss: stats.includes('rss') && samples.length ? Math.max(...samples.map((s) => s.rss)) : null,
    samples: samples.length,
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
