/** One wrk load: how long, how many connections and client threads, against which URL. */
export interface WrkLoad {
  url: string;
  /** Seconds. */
  duration: number;
  connections: number;
  threads: number;
}

/** The wrk command for a load, with the latency distribution (`--latency`) printed. */
export function wrkArgv(load: WrkLoad, program = 'wrk'): string[] {
  return [
    program,
    '--duration',
    `${load.duration}s`,
    '--connections',
    String(load.connections),
    // wrk refuses fewer connections than threads
    '--threads',
    String(Math.min(load.threads, load.connections)),
    '--latency',
    load.url,
  ];
}

/** What one wrk run reports; latencies in milliseconds, sizes in bytes. */
export interface WrkReport {
  /** Requests per second. */
  throughput: number;
  /** Bytes read per second. */
  transferRate: number;
  requests: number;
  /** Seconds the load actually lasted. */
  elapsed: number;
  bytesRead: number;
  latencyAvg: number;
  latencyStdev: number;
  latencyMax: number;
  latencyP50: number;
  latencyP75: number;
  latencyP90: number;
  latencyP99: number;
  /** Socket errors (connect + read + write + timeout). */
  socketErrors: number;
  /** Responses with a status other than 2xx or 3xx. */
  badResponses: number;
}

const TIME_UNITS_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
const BINARY_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, P: 1024 ** 5 };

/** `247.50us` → 0.2475 (milliseconds). */
export function parseWrkTime(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk duration: '${text}'`);
  // wrk prints microseconds at most; rounding drops binary noise like 0.17400000000000002
  return Math.round(Number(m[1]) * TIME_UNITS_MS[m[2]!]! * 1e6) / 1e6;
}

/** `9.37MB` → bytes (wrk prints sizes in powers of 1024). */
export function parseWrkBytes(text: string): number {
  const m = /^([\d.]+)([KMGTP]?)B$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk size: '${text}'`);
  return Number(m[1]) * BINARY_UNITS[m[2]!]!;
}

/**
 * Parses the output of `wrk --latency`. Throws with a message naming what is missing when the
 * output is not a complete wrk report (e.g. wrk could not connect at all).
 */
export function parseWrkOutput(text: string): WrkReport {
  const need = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(text);
    if (!m) throw new Error(`wrk output has no ${what}`);
    return m;
  };
  const latency = need(/^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)/m, 'latency statistics line');
  const pct = (p: number) => parseWrkTime(need(new RegExp(`^\\s*${p}(?:\\.0+)?%\\s+(\\S+)`, 'm'), `${p}% latency`)[1]!);
  const total = need(/^\s*(\d+) requests in ([\d.]+\w+), ([\d.]+\w*B) read/m, 'request count');
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    throughput: Number(need(/^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec line')[1]),
    transferRate: parseWrkBytes(need(/^Transfer\/sec:\s+(\S+)/m, 'Transfer/sec line')[1]!),
    requests: Number(total[1]),
    elapsed: parseWrkTime(total[2]!) / 1000,
    bytesRead: parseWrkBytes(total[3]!),
    latencyAvg: parseWrkTime(latency[1]!),
    latencyStdev: parseWrkTime(latency[2]!),
    latencyMax: parseWrkTime(latency[3]!),
    latencyP50: pct(50),
    latencyP75: pct(75),
    latencyP90: pct(90),
    latencyP99: pct(99),
    socketErrors: socket ? socket.slice(1, 5).reduce((sum, n) => sum + Number(n), 0) : 0,
    badResponses: bad ? Number(bad[1]) : 0,
  };
}

/** Field descriptions for `report --help-fields`. */
export const WRK_FIELDS: Record<string, string> = {
  throughput: 'requests per second (wrk)',
  transferRate: 'bytes read per second (wrk)',
  requests: 'requests completed during the load',
  elapsed: 'seconds the load lasted',
  bytesRead: 'bytes read by the client',
  latencyAvg: 'mean request latency, ms',
  latencyStdev: 'standard deviation of the request latency, ms',
  latencyMax: 'largest request latency, ms',
  latencyP50: 'median request latency, ms',
  latencyP75: '75th percentile of the request latency, ms',
  latencyP90: '90th percentile of the request latency, ms',
  latencyP99: '99th percentile of the request latency, ms',
  socketErrors: 'connect, read, write and timeout errors seen by the client',
  badResponses: 'responses with a status other than 2xx/3xx',
};
