import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RunInfo } from '../results/meta.js';
import { readRecordsFile } from '../results/read.js';
import { executionKey, RECORDS_FILE, type ExecutionRecord } from '../results/schema.js';

/** Fields every record gets from the run it belongs to, so runs can be grouped and filtered on. */
export const RUN_FIELDS: Record<string, string> = {
  run: 'run directory the execution was recorded in (run.YYYY-MM-DD.HH-MM-SS)',
  commit: "the project's git commit when the run started (from meta.json; empty outside git)",
};

function recordsFile(path: string): string {
  return statSync(path).isFile() ? path : join(path, RECORDS_FILE);
}

/** The name a run goes by: its directory's own name (results/last gives the run it points to). */
function runName(path: string): string {
  const dir = statSync(path).isFile() ? dirname(path) : path;
  try {
    return basename(realpathSync(dir));
  } catch {
    return basename(dir);
  }
}

const identity = (r: ExecutionRecord) => `${executionKey(r)}\u0000${r.start}`;

/**
 * The records with `run` and `commit` among their fields (unless the target has fields of
 * those names). With several runs, which run a record came from is found by its execution and
 * start time in each run's records.jsonl; records of the Python original's directories have
 * neither.
 */
export function withRunFields(records: ExecutionRecord[], runs: readonly RunInfo[], alsoLegacy: boolean): ExecutionRecord[] {
  const names = Object.keys(RUN_FIELDS).filter((f) => !records.some((r) => f in r.fields));
  if (!names.length || !runs.length) return records;
  const describe = (run: RunInfo) => ({ run: runName(run.dir), commit: run.meta?.project.gitCommit ?? '' });
  const byIdentity = new Map<string, { run: string; commit: string }>();
  if (runs.length > 1 || alsoLegacy) {
    for (const run of runs) {
      const d = describe(run);
      for (const r of readRecordsFile(recordsFile(run.dir)).records) byIdentity.set(identity(r), d);
    }
  }
  const only = runs.length === 1 && !alsoLegacy ? describe(runs[0]!) : undefined;
  return records.map((r) => {
    const d = only ?? byIdentity.get(identity(r));
    if (!d) return r;
    const fields = { ...r.fields };
    for (const n of names) fields[n] = d[n as keyof typeof d];
    return { ...r, fields };
  });
}

/** Gives the run fields their descriptions among the known fields (unless the target has fields of those names). */
export function describeRunFields(known: Map<string, string>): void {
  for (const [k, d] of Object.entries(RUN_FIELDS)) if (!known.has(k) || known.get(k) === '(found in the results)') known.set(k, d);
}

/**
 * Whether a report names a run field (to group, filter or report on), or lists the fields:
 * only then are records given them, since copying every record costs time on large runs.
 */
export function namesRunField(names: ReadonlyArray<string | undefined>): boolean {
  return names.some((n) => n !== undefined && Object.prototype.hasOwnProperty.call(RUN_FIELDS, n.split(/[:=]/)[0]!));
}
