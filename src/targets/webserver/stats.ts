import type { HostShell, ShellSession } from './shell.js';

/**
 * Server statistics sampled while a load runs, as the original's `--collect-stats` names
 * them: `cpu` the CPU use of the server (and the whole server machine), `cpu-proc` the CPU use
 * of each server process, `rss` and `vms` the resident and virtual memory of the server.
 */
export type ServerStat = 'cpu' | 'cpu-proc' | 'rss' | 'vms';
export const SERVER_STATS: readonly ServerStat[] = ['cpu', 'cpu-proc', 'rss', 'vms'];

/** Linux reports CPU times in /proc in units of USER_HZ, which is 100 on every architecture. */
const USER_HZ = 100;

/** One look at the server's process tree. */
export interface Sample {
  /** Milliseconds (monotonic). */
  at: number;
  /** CPU seconds (user + system) of the whole process tree. */
  cpu: number;
  /** Resident set size of the whole process tree, KiB. */
  rss: number;
  /** Virtual memory size of the whole process tree, KiB. */
  vms?: number;
  /** CPU seconds of each process of the tree, by process id. */
  procs?: Map<number, number>;
  /** The machine's busy and total CPU ticks (all cores, from /proc/stat). */
  host?: { busy: number; total: number };
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
  /** Busy share of all cores of the server's machine over the window (0 to 1), whoever used them. */
  serverHostUtilization: number | null;
  /** Largest resident set size of the server's processes together, KiB. */
  serverMaxRss: number | null;
  /** Largest virtual memory size of the server's processes together, KiB. */
  serverMaxVms: number | null;
  /** `cpu-proc`: CPU use of the busiest and the idlest server process over the window, percent of one core. */
  serverProcCpuMax: number | null;
  serverProcCpuMin: number | null;
  /** Server processes at the end of the window. */
  serverProcesses: number | null;
  /** Samples taken. */
  samples: number;
}

/** What the sampler script reports beside the samples. */
export interface SamplerReport extends ServerStats {
  /** Host name of the machine the server runs on. */
  serverHost: string;
  /** CPUs the server may run on (its affinity), 0 when unknown. */
  serverCpus: number;
  /** CPU the sampler itself used during the window, percent of one core. */
  samplerCpu: number | null;
}

/**
 * The sampler: a POSIX shell script that reads /proc with builtins only (no process per
 * sample; one `sleep` per interval), so it adds next to nothing to the server's machine. It
 * prints `host NAME PAGESIZE CPUS` (the CPU list the server may run on), then one line per sample, `s UPTIME PID:TICKS:RSS:VSZ...
 * sys:BUSY:TOTAL`, until its input closes; then a last sample. Its own CPU time (`times`) is
 * printed after the first sample and at the end, so its cost during the window is known.
 * The process tree is followed through /proc/PID/task/TID/children.
 */
const SAMPLER = `
pid=$1 iv=$2
page=$(getconf PAGESIZE 2>/dev/null) || page=4096
cpus=
while read -r k v; do [ "$k" = Cpus_allowed_list: ] && cpus=$v; done 2>/dev/null <"/proc/$pid/status"
echo "host $(hostname) $page \${cpus:-0}"
sample() {
  read -r up _ </proc/uptime
  out="s $up"
  q=$pid
  while :; do
    set -- $q
    [ $# -gt 0 ] || break
    p=$1
    shift
    q=$*
    line=
    { read -r line </proc/$p/stat; } 2>/dev/null
    [ -n "$line" ] || continue
    set -- \${line##*) }
    vsz= rss=
    { read -r vsz rss _ </proc/$p/statm; } 2>/dev/null
    out="$out $p:$((\${12} + \${13})):\${rss:-0}:\${vsz:-0}"
    for c in /proc/$p/task/*/children; do
      k=
      { read -r k <"$c"; } 2>/dev/null
      q="$q $k"
    done
  done
  read -r _ u n s i w x y z _ </proc/stat
  echo "$out sys:$((u + n + s + x + y + z)):$((u + n + s + i + w + x + y + z))"
}
exec 3<&0
stop=
trap 'stop=1' USR1
# our input closes when the window ends (or when the framework is gone)
{ cat >/dev/null; kill -USR1 $$; } <&3 >/dev/null 2>&1 &
sample
# the sampler's own CPU time so far (start-up included), so the window's share can be told apart
echo times0
times
while [ -z "$stop" ]; do
  sleep "$iv" &
  w=$!
  wait $w
  if [ -n "$stop" ]; then
    kill $w 2>/dev/null
    break
  fi
  sample
done
sample
echo times
times
`;

/** Parses the sampler's output (exported for tests). */
export function parseSamplerOutput(lines: readonly string[]): {
  host: string;
  cpus: number;
  samples: Sample[];
  samplerSeconds: number | null;
} {
  let host = '';
  let cpus = 0;
  let page = 4096;
  const samples: Sample[] = [];
  let samplerSeconds: number | null = null;
  let startSeconds = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const words = line.trim().split(/\s+/);
    if (words[0] === 'host') {
      host = words[1] ?? '';
      page = Number(words[2]) || 4096;
      cpus = countCpus(words[3] ?? '');
    } else if (words[0] === 's') {
      const sample: Sample = { at: Number(words[1]) * 1000, cpu: 0, rss: 0, vms: 0, procs: new Map() };
      for (const w of words.slice(2)) {
        const [a, b, c, d] = w.split(':');
        if (a === 'sys') {
          sample.host = { busy: Number(b), total: Number(c) };
          continue;
        }
        const cpu = Number(b) / USER_HZ;
        sample.cpu += cpu;
        sample.rss += (Number(c) * page) / 1024;
        sample.vms! += (Number(d) * page) / 1024;
        sample.procs!.set(Number(a), cpu);
      }
      samples.push(sample);
    } else if (words[0] === 'times0' || words[0] === 'times') {
      // the shell's own user and system time, then its children's
      let seconds = 0;
      const next = lines.slice(i + 1, i + 3).join(' ');
      for (const t of next.matchAll(/(\d+)m([\d.]+)s/g)) seconds += Number(t[1]) * 60 + Number(t[2]);
      if (words[0] === 'times0') startSeconds = seconds;
      else samplerSeconds = seconds - startSeconds;
    }
  }
  return { host, cpus, samples, samplerSeconds };
}

/**
 * Samples a server's process tree (the process and every descendant, e.g. nginx's master and
 * workers) every `intervalSeconds` on the server's machine, from {@link start} until
 * {@link stop}.
 */
export class ServerSampler {
  private session: ShellSession | null = null;

  constructor(
    private readonly shell: HostShell,
    private readonly pid: number,
    private readonly stats: readonly ServerStat[],
    private readonly intervalSeconds: number,
  ) {}

  /** Resolves once the first sample is taken. */
  async start(): Promise<void> {
    this.session = this.shell.session(SAMPLER, [String(this.pid), String(this.intervalSeconds)]);
    const first = await this.session.waitForLine((l) => l.startsWith('s '));
    if (first === null) {
      const r = await this.session.done;
      throw new Error(`the server statistics sampler on ${this.shell.name} stopped: ${r.stderr.trim() || `exit status ${r.code}`}`);
    }
  }

  /** Ends the window; `loadSeconds` is how long the load lasted (see {@link summarize}). */
  async stop(loadSeconds?: number): Promise<SamplerReport> {
    const session = this.session;
    this.session = null;
    if (!session) throw new Error('ServerSampler.stop without start');
    session.end();
    const r = await session.done;
    const { host, cpus, samples, samplerSeconds } = parseSamplerOutput(r.stdout.split('\n'));
    const summary = summarize(samples, this.stats, this.intervalSeconds, loadSeconds);
    const window = samples.length > 1 ? (samples[samples.length - 1]!.at - samples[0]!.at) / 1000 : 0;
    return {
      ...summary,
      serverHost: host || this.shell.name,
      serverCpus: cpus,
      samplerCpu: samplerSeconds !== null && window > 0 ? round((samplerSeconds / window) * 100) : null,
    };
  }

  /** Ends a window nobody will read (the server stopped). */
  cancel(): void {
    this.session?.end();
    this.session = null;
  }
}

/**
 * Reduces samples to the reported statistics (exported for tests). With `loadSeconds`, only the
 * part of the window where the load ran counts: the stretch of that length (plus one interval)
 * in which the server used the most CPU. The window starts before the load generator and ends
 * after it, by however long starting it and collecting its output takes (over SSH on a busy
 * machine, a second or more), and idle margins would otherwise pull the median down.
 */
export function summarize(
  all: readonly Sample[],
  stats: readonly ServerStat[],
  intervalSeconds: number,
  loadSeconds?: number,
): ServerStats {
  const samples = loadSeconds === undefined ? all : busiestStretch(all, (loadSeconds + intervalSeconds) * 1000);
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
  const span = first && last && last.at > first.at ? (last.at - first.at) / 1000 : 0;
  const withCpu = stats.includes('cpu') && intervals.length > 0;
  const perProcess: number[] = [];
  if (stats.includes('cpu-proc') && span > 0 && first?.procs && last?.procs) {
    for (const [pid, cpu] of last.procs) {
      const before = first.procs.get(pid);
      if (before !== undefined) perProcess.push(((cpu - before) / span) * 100);
    }
  }
  const hostTicks = first?.host && last?.host ? last.host.total - first.host.total : 0;
  return {
    serverCpu: withCpu ? round(median(intervals)) : null,
    serverCpuMean: withCpu && span > 0 ? round(cpuPercent(first!, last!)) : null,
    serverHostUtilization:
      stats.includes('cpu') && hostTicks > 0 ? Math.round(((last!.host!.busy - first!.host!.busy) / hostTicks) * 100) / 100 : null,
    serverMaxRss: stats.includes('rss') && all.length ? Math.round(Math.max(...all.map((s) => s.rss))) : null,
    serverMaxVms: stats.includes('vms') && all.length ? Math.round(Math.max(...all.map((s) => s.vms ?? 0))) : null,
    serverProcCpuMax: perProcess.length ? round(Math.max(...perProcess)) : null,
    serverProcCpuMin: perProcess.length ? round(Math.min(...perProcess)) : null,
    serverProcesses: stats.includes('cpu-proc') && last?.procs ? last.procs.size : null,
    samples: samples.length,
  };
}

/** The consecutive samples at most `ms` apart from first to last in which the most CPU was used. */
function busiestStretch(samples: readonly Sample[], ms: number): readonly Sample[] {
  let best: [number, number] = [0, samples.length - 1];
  let most = -1;
  for (let i = 0, j = 0; i < samples.length; i++) {
    j = Math.max(j, i);
    while (j + 1 < samples.length && samples[j + 1]!.at - samples[i]!.at <= ms) j++;
    const used = samples[j]!.cpu - samples[i]!.cpu;
    if (j > i && used > most) {
      most = used;
      best = [i, j];
    }
  }
  return samples.slice(best[0], best[1] + 1);
}

/** `0-3,8` → 5. */
export function countCpus(list: string): number {
  let n = 0;
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m) n += m[2] === undefined ? 1 : Number(m[2]) - Number(m[1]) + 1;
  }
  return n;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
