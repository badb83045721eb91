import type { RunInfo } from '../results/meta.js';
import type { RunMeta } from '../results/schema.js';

/** One property of a run that differs between runs, with each run's value. */
export interface MetaDifference {
  what: string;
  values: string[];
}

const show = (v: unknown): string => (v === undefined ? '(not recorded)' : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * What changes the numbers: the run settings (iterations, timeout, target options...), the
 * instances' compilers and flags, and the machine (host, CPU, kernel, THP, ASLR, governor).
 * The time is never listed; the commit only on request: it differs on purpose when runs are compared.
 */
function comparedProperties(m: RunMeta, withCommit: boolean): Map<string, unknown> {
  const out = new Map<string, unknown>();
  out.set('target', m.target);
  if (withCommit) out.set('commit', shortCommit(m));
  const settings = (m.settings ?? { iterations: m.iterations }) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(settings)) {
    if (k === 'instances') continue;
    if (k === 'args' && v && typeof v === 'object') for (const [a, av] of Object.entries(v)) out.set(`option ${a}`, av);
    else out.set(`setting ${k}`, v);
  }
  for (const k of ['hostname', 'cpuModel', 'cores', 'kernel', 'thp', 'aslr', 'governor'] as const) out.set(`host ${k}`, m.host[k]);
  for (const inst of m.instances) {
    for (const [k, v] of Object.entries(inst)) if (k !== 'name') out.set(`instance ${inst.name} ${k}`, v);
  }
  return out;
}

/**
 * The properties that differ between runs with meta.json (runs without are left out), each
 * run's value in the order of `runs`. Instances present in only some runs are not compared.
 * `withCommit` adds the commit (when mixing runs in one report, not when comparing them).
 */
export function metaDifferences(runs: readonly RunInfo[], withCommit = false): MetaDifference[] {
  const metas = runs.filter((r) => r.meta).map((r) => comparedProperties(r.meta!, withCommit));
  if (metas.length < 2) return [];
  const instancesOf = (p: Map<string, unknown>) =>
    new Set([...p.keys()].filter((k) => k.startsWith('instance ')).map((k) => k.split(' ')[1]));
  const everywhere = metas.map(instancesOf).reduce((a, b) => new Set([...a].filter((x) => b.has(x))));
  const keys = [...new Set(metas.flatMap((p) => [...p.keys()]))].filter(
    (k) => !k.startsWith('instance ') || everywhere.has(k.split(' ')[1]),
  );
  const out: MetaDifference[] = [];
  for (const what of keys) {
    const values = metas.map((p) => show(p.get(what)));
    if (new Set(values).size > 1) out.push({ what, values });
  }
  return out;
}

/** The commit a run was made from, short, with `+changes` for a dirty tree. */
export function shortCommit(m: RunMeta | undefined): string {
  const c = m?.project.gitCommit;
  if (!c) return m ? 'no git commit' : 'no meta.json';
  return c.slice(0, 12) + (m.project.gitDirty ? '+changes' : '');
}
