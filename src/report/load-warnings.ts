import type { RunInfo } from '../results/meta.js';
import type { LoadSnapshot, RunLoad } from '../results/load-types.js';

/** Load average at the start of a run at or above this share of the cores (and at least 1) is a loaded machine. */
const LOADAVG_SHARE = 0.5;
/** Other processes using this share of the cores on average (and at least half a core) while the run measured. */
const OTHER_SHARE = 0.25;
/** Some task waiting for a CPU this share of the time (PSI). */
const STALL_SHARE = 0.2;

const busyText = (s: LoadSnapshot) => s.busy.slice(0, 3).map((p) => `${p.command} (pid ${p.pid}, ${p.cpuPercent}% of a core)`);

/** What made a run's machine loaded, in words; empty when nothing did. */
export function loadFindings(load: RunLoad): string[] {
  const out: string[] = [];
  const cores = load.cores || 1;
  const other = load.end?.otherCores;
  if (other !== undefined && other !== null && other >= Math.max(0.5, OTHER_SHARE * cores))
    out.push(`other processes used ${other} of ${cores} cores on average while it ran`);
  const stall = load.end?.cpuStallShare;
  if (stall !== undefined && stall !== null && stall >= STALL_SHARE)
    out.push(`some task waited for a CPU ${(stall * 100).toFixed(0)}% of the time (/proc/pressure/cpu)`);
  // the load average trails by a minute: after a build that just ended it is still high while
  // nothing runs. Alone (nothing busy at the start, nothing else running while the run
  // measured) it is that work's trace, not load.
  const avg = load.start.loadavg[0];
  const trailing = load.end !== undefined && out.length === 0 && load.start.busy.length === 0;
  if (avg !== undefined && avg >= Math.max(1, LOADAVG_SHARE * cores) && !trailing)
    out.unshift(`load average ${avg} on ${cores} cores at its start`);
  if (out.length) {
    const busy = [...new Set([...busyText(load.start), ...(load.end ? busyText(load.end) : [])])];
    if (busy.length) out.push(`busy: ${busy.join(', ')}`);
  }
  return out;
}

/** A warning per run whose meta.json says the machine was loaded while it measured. */
export function loadWarnings(runs: readonly RunInfo[]): string[] {
  const out: string[] = [];
  for (const run of runs) {
    const load = run.meta?.load;
    if (!load?.start) continue;
    const found = loadFindings(load);
    if (found.length)
      out.push(
        `${run.dir} ran on a loaded machine: ${found.join('; ')}; its numbers may be slower and noisier than on an idle machine ` +
          '(compare instances measured in the same run, whose executions share the load, or run again on an idle machine)',
      );
  }
  return out;
}
