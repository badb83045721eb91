import type { WrkLoad, WrkReport } from './wrk.js';

/**
 * Requests ab may complete per second of a load. ab sizes its table of request times by its
 * request limit (32 bytes each, allocated up front), and a time limit alone would stop it
 * after 50000 requests; a loopback server answers far fewer than this, so ab stops at the
 * time limit.
 */
const AB_REQUESTS_PER_SECOND = 200_000;
const INT_MAX = 2 ** 31 - 1;

/**
 * The ab command for a load: keep-alive connections (like wrk), `--duration` seconds, no
 * progress lines, socket errors counted rather than fatal, and the latency of every percent
 * (in microsecond precision) written to `percentilesFile` as CSV. ab is single-threaded:
 * `threads` does not apply.
 */
export function abArgv(load: WrkLoad, percentilesFile: string, program = 'ab'): string[] {
  const requests = Math.min(INT_MAX, load.duration * AB_REQUESTS_PER_SECOND);
  return [
    program,
    '-q',
    '-r',
    '-k',
    // -t sets the request limit to 50000: -n must come after it
    '-t',
    String(load.duration),
    '-n',
    String(requests),
    '-c',
    String(load.connections),
    '-e',
    percentilesFile,
    load.url,
  ];
}

/**
 * Parses the report ab prints into the fields wrk gives. Throughput, transfer rate, requests,
 * bytes, errors and the mean latency (ab's "Time per request", concurrency × time / requests)
 * come from its standard output; the percentiles and the maximum from `percentilesCsv` (ab's
 * `-e` file, microsecond precision) when given, else from its "Percentage of the requests
 * served" table, which ab rounds to whole milliseconds. The standard deviation is that of ab's
 * "Total" connection times (0.1 ms precision). Throws naming what is missing when the output
 * is not a complete report (e.g. ab could not connect).
 */
export function parseAbOutput(text: string, percentilesCsv?: string): WrkReport {
  const need = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(text);
    if (!m) throw new Error(`ab output has no ${what}`);
    return m;
  };
  const count = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  const elapsed = Number(need(/^Time taken for tests:\s+([\d.]+) seconds/m, "'Time taken for tests' line")[1]);
  const total = need(/^Total:\s+(\d+)\s+(\d+)\s+([\d.]+)\s+(\d+)\s+(\d+)/m, "'Total' connection times line");
  const percentiles = percentilesCsv ? parseAbPercentiles(percentilesCsv) : tablePercentiles(text);
  const at = (p: number): number => {
    const v = percentiles.get(p);
    if (v === undefined) throw new Error(`ab output has no ${p}% latency`);
    return v;
  };
  return {
    throughput: Number(need(/^Requests per second:\s+([\d.]+)/m, "'Requests per second' line")[1]),
    transferRate: Number(need(/^Transfer rate:\s+([\d.]+) \[Kbytes\/sec\]/m, "'Transfer rate' line")[1]) * 1024,
    requests: Number(need(/^Complete requests:\s+(\d+)/m, "'Complete requests' line")[1]),
    elapsed,
    bytesRead: Number(need(/^Total transferred:\s+(\d+) bytes/m, "'Total transferred' line")[1]),
    latencyAvg: Number(need(/^Time per request:\s+([\d.]+) \[ms\] \(mean\)$/m, "'Time per request' line")[1]),
    latencyStdev: Number(total[3]),
    latencyMax: at(100),
    latencyP50: at(50),
    latencyP75: at(75),
    latencyP90: at(90),
    latencyP99: at(99),
    socketErrors: count(/^Failed requests:\s+(\d+)/m) + count(/^Write errors:\s+(\d+)/m),
    badResponses: count(/^Non-2xx responses:\s+(\d+)/m),
  };
}

/** ab's `-e` CSV (`Percentage served,Time in ms` then `50,0.212`...): latency in ms by percent. */
export function parseAbPercentiles(csv: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of csv.split('\n')) {
    const m = /^(\d+),([\d.]+)$/.exec(line.trim());
    if (m) out.set(Number(m[1]), Number(m[2]));
  }
  if (out.size === 0) throw new Error('the ab percentile file has no percentiles');
  return out;
}

/** The whole-millisecond table of ab's standard output (`  50%      1`, ` 100%      7 (longest request)`). */
function tablePercentiles(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of text.matchAll(/^\s*(\d+)%\s+(\d+)(?: \(longest request\))?$/gm)) out.set(Number(m[1]), Number(m[2]));
  return out;
}
