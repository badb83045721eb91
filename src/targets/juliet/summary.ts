import type { ReportedExecution, TargetReportInput, TargetReportTable } from '../../api.js';

/** Test cases of one CWE and flow variant for one instance: found, left out (by reason), built. */
export type SelectionCount = {
  cwe: string;
  variant: string;
  found: number;
  built: number;
  excluded: Record<string, number>;
};

/** What a Juliet run keeps per instance in meta.json (see `Target.describeRun`). */
export type JulietRunDescription = {
  optlevel: string;
  sanitizers: string[];
  randRuns: number;
  selection: SelectionCount[];
  /** CWEs the instance's sanitizer options cannot catch, and the option that prevents it. */
  blind: Array<{ cwe: string; because: string }>;
  /** Why each family is left out by default. */
  reasons: Record<string, string>;
};

const REASONS: Record<string, string> = {
  windows: 'Windows API only',
  socket: 'needs a socket peer (client/server pair)',
  wchar_t: 'left out by --skip-wchar',
};

/** Short column headings for the reasons (the notes under the table spell them out). */
const HEADINGS: Record<string, string> = { 'input-dependent': 'input', nondeterministic: 'rand', 'not-a-bug-here': 'abi', windows: 'w32' };

const BAD = ['detected', 'crashed', 'hung', 'missed'] as const;
const GOOD = ['false-positive', 'failed'] as const;

/** Each test program's share of runs per verdict (a rand case run 5 times, detected twice: 0.4 detected). */
function programShares(records: readonly ReportedExecution[]): Map<string, { kind: string; shares: Map<string, number> }> {
  const runs = new Map<string, { kind: string; verdicts: string[] }>();
  for (const r of records) {
    const key = `${String(r.fields.testcase)}\u0000${String(r.fields.kind)}`;
    let p = runs.get(key);
    if (!p) runs.set(key, (p = { kind: String(r.fields.kind), verdicts: [] }));
    p.verdicts.push(r.status === 'ok' && typeof r.fields.verdict === 'string' ? r.fields.verdict : 'not run');
  }
  const out = new Map<string, { kind: string; shares: Map<string, number> }>();
  for (const [key, p] of runs) {
    const shares = new Map<string, number>();
    for (const v of p.verdicts) shares.set(v, (shares.get(v) ?? 0) + 1 / p.verdicts.length);
    out.set(key, { kind: p.kind, shares });
  }
  return out;
}

function isDescription(d: Record<string, unknown>): d is JulietRunDescription {
  return Array.isArray(d.selection) && typeof d.optlevel === 'string';
}

const round = (x: number) => Math.round(x * 1000) / 1000;
const natural = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });

/**
 * The Juliet summary `infra report juliet RUNDIR` prints: per CWE (or flow variant, with
 * `--groupby variant`) and instance, the test cases found, left out (by reason) and built, how
 * the bad programs ended (detected by the instrumentation, crashed anyway, hung, missed) and how
 * many good programs did not exit cleanly (false positives, other failures).
 */
export function julietReportTable(input: TargetReportInput): TargetReportTable | undefined {
  const by = input.groupby;
  if (by !== 'cwe' && by !== 'variant') return undefined;
  const described = new Map<string, { optlevel?: string; counts: Map<string, SelectionCount>; desc: JulietRunDescription[] }>();
  for (const instance of input.instances) {
    const descs = (input.runDescriptions.get(instance) ?? []).filter(isDescription);
    const counts = new Map<string, SelectionCount>();
    // a CWE and variant counted by several runs: the latest run's selection counts
    for (const d of descs) for (const c of d.selection) counts.set(`${c.cwe}/${c.variant}`, c);
    described.set(instance, { optlevel: descs.at(-1)?.optlevel, counts, desc: descs });
  }
  const reasons = new Set<string>();
  for (const d of described.values()) for (const c of d.counts.values()) for (const r of Object.keys(c.excluded)) reasons.add(r);
  const reasonList = [...reasons].sort();

  const groups = new Set<string>();
  for (const r of input.records) if (r.fields[by] !== undefined && r.fields[by] !== null) groups.add(String(r.fields[by]));
  for (const d of described.values()) for (const c of d.counts.values()) groups.add(c[by]);

  const columns: TargetReportTable['columns'] = [
    { name: by },
    { name: 'instance' },
    { name: 'opt' },
    { name: 'found' },
    ...reasonList.map((r) => ({ group: 'excluded', name: HEADINGS[r] ?? r })),
    { name: 'built' },
    { group: 'bad', name: 'detected' },
    { group: 'bad', name: 'crashed' },
    { group: 'bad', name: 'hung' },
    { group: 'bad', name: 'missed' },
    { group: 'bad', name: 'detected%' },
    { group: 'good', name: 'false-pos' },
    { group: 'good', name: 'failed' },
  ];
  let notRun = 0;
  const rows: TargetReportTable['rows'] = [];
  for (const group of [...groups].sort(natural)) {
    for (const instance of input.instances) {
      const d = described.get(instance)!;
      const records = input.records.filter((r) => r.instance === instance && String(r.fields[by]) === group);
      const counts = [...d.counts.values()].filter((c) => c[by] === group);
      if (!records.length && !counts.length) continue;
      const sum = (f: (c: SelectionCount) => number) => (counts.length ? counts.reduce((n, c) => n + f(c), 0) : null);
      const tally = new Map<string, number>();
      for (const p of programShares(records).values()) {
        for (const [v, share] of p.shares) tally.set(v, (tally.get(v) ?? 0) + share);
      }
      notRun += tally.get('not run') ?? 0;
      const badRun = BAD.reduce((n, v) => n + (tally.get(v) ?? 0), 0);
      const opt = d.optlevel ?? records.find((r) => typeof r.fields.optlevel === 'string')?.fields.optlevel ?? null;
      rows.push([
        group,
        instance,
        opt,
        sum((c) => c.found),
        ...reasonList.map((r) => sum((c) => c.excluded[r] ?? 0)),
        sum((c) => c.built),
        ...BAD.map((v) => round(tally.get(v) ?? 0)),
        badRun ? Math.round((1000 * (tally.get('detected') ?? 0)) / badRun) / 10 : null,
        ...GOOD.map((v) => round(tally.get(v) ?? 0)),
      ]);
    }
  }
  const randIncluded = input.records.some((r) => r.fields.family === 'nondeterministic');
  return { columns, rows, notes: notes(described, reasonList, Math.round(notRun), randIncluded) };
}

function notes(
  described: Map<string, { desc: JulietRunDescription[] }>,
  reasonList: string[],
  notRun: number,
  randIncluded: boolean,
): string[] {
  const out = [
    'detected: the instrumentation stopped the bad program (a sanitizer report, or the mitigation exit code);',
    'crashed: it died of a signal or exited non-zero without one (as it may with no defense at all); hung: reached',
    'the time limit; missed: exited cleanly (bad: the bad programs). false-pos: a good program stopped by the',
    'instrumentation; failed: a good program that crashed, exited non-zero or hung. opt: the -O level of the build.',
  ];
  const why = new Map<string, string>(Object.entries(REASONS));
  for (const d of described.values()) for (const desc of d.desc) for (const [k, v] of Object.entries(desc.reasons)) why.set(k, v);
  for (const r of reasonList) out.push(`excluded ${HEADINGS[r] ? `${HEADINGS[r]} (${r})` : r}: ${why.get(r) ?? r}`);
  const rand = new Set<number>();
  for (const [instance, d] of described) {
    const last = d.desc.at(-1);
    if (!last) continue;
    for (const b of last.blind) out.push(`${b.cwe}: ${instance} cannot detect it with ${b.because}`);
    rand.add(last.randRuns);
  }
  if (randIncluded) {
    out.push(
      `nondeterministic (rand) cases ran ${[...rand].join('/')} times each and count as shares of their runs (0.4: detected in 2 of 5)`,
    );
  }
  if (notRun) out.push(`warning: ${notRun} program(s) did not run to an outcome (see the run's failed executions)`);
  return out;
}
