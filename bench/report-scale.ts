/**
 * Reports at scale, through the CLI, side by side with an older build:
 *
 *   1. `infra report TARGET results/last --overhead baseline` over RECORDS records (default
 *      1,000,000) of a trivial target in records.jsonl (records as `infra run` writes them for
 *      /bin/true: every measured field, start time and log paths), and over a tenth of them:
 *      the first report, which reads the column blocks the run wrote beside them and writes the
 *      column index (the index is removed before each of these runs); the same without the
 *      blocks (records.jsonl written by another tool or an older build), which reads the lines;
 *      and the reports after it, which read the index;
 *   2. the same over the Python original's log format: 10,000 log files (5,000 jobs of a
 *      `--parallel proc` run, `<benchmark>.<i>.stdout.log` with the benchmark's block and
 *      `.stderr.log` with the rusage-counters block).
 *
 *   node --import tsx bench/report-scale.ts [--old DIR] [--runs N] [--records N]
 *
 * DIR is a checkout of an older commit, built (`npm run build`), whose bin/infra.js is timed
 * in the same run, interleaved with this one: e.g.
 *   mkdir /tmp/old && git archive COMMIT | tar -x -C /tmp/old && ln -s $PWD/node_modules /tmp/old/ &&
 *   (cd /tmp/old && npm run build)
 * Each command runs N times (default 3) after one warm-up; printed are the median wall time,
 * the median CPU time (user + system) and the peak RSS, from /usr/bin/time. On a machine shared
 * with other work the wall time follows the load; the CPU time and the ratios measured
 * interleaved are the figures to compare.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BlockWriter } from '../src/results/columns-blocks.ts';
import type { ExecutionRecord } from '../src/results/schema.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1]! : fallback;
};
const RECORDS = Number(opt('--records', '1000000'));
const RUNS = Number(opt('--runs', '3'));
const OLD = args.includes('--old') ? resolve(opt('--old', '')) : undefined;
const NEW_CLI = resolve(import.meta.dirname, '..', 'bin', 'infra.js');
const LEGACY_JOBS = 5000;

const SETUP = [
  "import { Setup, Target } from 'instrumentation-infra';",
  'class True extends Target {',
  "  name = 'true';",
  '  isFetched() { return true; }',
  '  fetch() {}',
  '  build() {}',
  '  run() {}',
  '}',
  'const setup = new Setup(import.meta.url);',
  'setup.addTarget(new True());',
  'await setup.main();',
  '',
].join('\n');

/**
 * records.jsonl of a run of /bin/true: 2 instances x 100 benchmarks x n/200 iterations, with
 * the column blocks `infra run` writes beside it (by the run's own writer, each record's
 * columns noted after its line is written).
 */
function writeRecords(dir: string, n: number): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'records.jsonl');
  const blocks = new BlockWriter(file, 0);
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const perCell = Math.ceil(n / 200);
  const batch: Array<{ record: ExecutionRecord; line: Buffer }> = [];
  let written = 0;
  let size = 0;
  const flush = (last = false) => {
    if (batch.length >= 50_000 || (last && batch.length)) {
      writeFileSync(file, Buffer.concat(batch.map((b) => b.line)), { flag: 'a' });
      for (const { record, line } of batch) {
        blocks.add(record, line, size);
        size += line.length;
      }
      batch.length = 0;
    }
  };
  for (let b = 0; b < 100; b++) {
    for (const [k, instance] of ['baseline', 'asan'].entries()) {
      for (let i = 0; i < perCell && written < n; i++, written++) {
        const runtime = 0.0007 * (1 + k * 0.1) * (1 + (rand() - 0.5) * 0.1);
        const record: ExecutionRecord = {
          schema: 1,
          target: 'true',
          instance,
          benchmark: `b${b}`,
          iteration: i,
          host: 'node1',
          status: 'ok',
          exitCode: 0,
          signal: null,
          start: new Date(1.7e12 + written * 3).toISOString(),
          fields: {
            runtime,
            utime: runtime * 0.3,
            stime: runtime * 0.5,
            maxrss: 1200 + k * 100,
            minflt: 60,
            majflt: 0,
            nvcsw: 1,
            nivcsw: 0,
            cgroupPeak: 1400,
          },
          stdout: `logs/true/${instance}/b${b}.${i}.stdout`,
          stderr: `logs/true/${instance}/b${b}.${i}.stderr`,
        };
        batch.push({ record, line: Buffer.from(JSON.stringify(record) + '\n') });
        flush();
      }
    }
  }
  flush(true);
  blocks.close();
}

/** A results directory of the Python original: `true/<instance>/<benchmark>.<i>.{stdout,stderr}.log`. */
function writeLegacy(dir: string): void {
  for (const [k, instance] of ['baseline', 'asan'].entries()) {
    const idir = join(dir, 'true', instance);
    mkdirSync(idir, { recursive: true });
    for (let job = 0; job < LEGACY_JOBS / 2; job++) {
      const b = job % 50;
      const i = Math.floor(job / 50);
      const base = join(idir, `b${b}.${i}`);
      writeFileSync(
        `${base}.stdout.log`,
        `running b${b}\n[setup-report] begin b${b}-result\n[setup-report] benchmark: b${b}\n[setup-report] checksum: 42\n[setup-report] end b${b}-result\n`,
      );
      const runtime = (0.5 + b / 100) * (1 + k * 0.1) * (1 + ((job * 7919) % 100) / 10_000);
      writeFileSync(
        `${base}.stderr.log`,
        [
          '[setup-report] begin rusage-counters',
          `[setup-report] maxrss: ${3000 + k * 1000}`,
          '[setup-report] page_faults: 120',
          '[setup-report] io_operations: 8',
          '[setup-report] context_switches: 3',
          `[setup-report] estimated_runtime: ${runtime}`,
          '[setup-report] end rusage-counters',
          '',
        ].join('\n'),
      );
    }
  }
}

interface Timing {
  wall: number;
  cpu: number;
  rssMiB: number;
  ok: boolean;
  error: string;
  out: string;
}

function timeCli(cli: string, cwd: string, argv: string[]): Timing {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, cli, ...argv], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, NO_COLOR: '1' },
  });
  const lines = r.stderr.trim().split('\n');
  const [wall, user, sys, rss] = lines.at(-1)!.split(' ').map(Number) as [number, number, number, number];
  const error = lines.filter((l) => /error/i.test(l)).join(' | ');
  return { wall, cpu: user + sys, rssMiB: rss / 1024, ok: r.status === 0, error, out: r.stdout };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** `before` runs before each timed command (not timed itself); returns this build's output. */
function compare(label: string, cwd: string, argv: string[], differs = '', before = () => {}): string {
  const clis: Array<[string, string]> = [['new', NEW_CLI]];
  if (OLD) clis.push(['old', join(OLD, 'bin', 'infra.js')]);
  for (const [, cli] of clis) timeCli(cli, cwd, argv); // warm the setup bundle and the page cache
  const times = new Map<string, Timing[]>(clis.map(([n]) => [n, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const [name, cli] of clis) {
      before();
      times.get(name)!.push(timeCli(cli, cwd, argv));
    }
  }
  console.log(`\n${label}\n  infra ${argv.join(' ')}`);
  const summary = new Map<string, { wall: number; cpu: number }>();
  for (const [name] of clis) {
    const t = times.get(name)!;
    if (!t.every((x) => x.ok)) {
      console.log(`  ${name.padEnd(4)} failed: ${t.find((x) => !x.ok)!.error || 'non-zero exit'}`);
      continue;
    }
    const s = { wall: median(t.map((x) => x.wall)), cpu: median(t.map((x) => x.cpu)) };
    summary.set(name, s);
    console.log(
      `  ${name.padEnd(4)} wall ${s.wall.toFixed(2).padStart(6)} s   cpu ${s.cpu.toFixed(2).padStart(6)} s   peak RSS ${Math.max(...t.map((x) => x.rssMiB)).toFixed(0)} MiB`,
    );
  }
  const [n, o] = [summary.get('new'), summary.get('old')];
  if (n && o) {
    const same = times.get('new')![0]!.out === times.get('old')![0]!.out;
    console.log(
      `  old/new: wall ${(o.wall / n.wall).toFixed(2)}x, cpu ${(o.cpu / n.cpu).toFixed(2)}x; same output: ${same ? 'yes' : `no${differs}`}`,
    );
  }
  return times.get('new')![0]!.out;
}

const root = mkdtempSync(join(tmpdir(), 'infra-report-scale-'));
try {
  writeFileSync(join(root, 'setup.ts'), SETUP);
  const big = join(root, 'results', 'run.2025-01-01.00-00-00');
  const tenth = join(root, 'results', 'run.2025-01-02.00-00-00');
  writeRecords(big, RECORDS);
  writeRecords(tenth, Math.round(RECORDS / 10));
  symlinkSync('run.2025-01-01.00-00-00', join(root, 'results', 'last'));
  writeLegacy(join(root, 'original', 'run.2020-01-01.00-00-00'));
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on this machine (figures taken under that load)`,
  );
  for (const [n, run] of [
    [RECORDS / 10, 'run.2025-01-02.00-00-00'],
    [RECORDS, 'run.2025-01-01.00-00-00'],
  ] as const) {
    const argv = ['report', 'true', `results/${run}`, '--overhead', 'baseline'];
    const index = join(root, 'results', run, '.records.columns');
    const blocks = join(root, 'results', run, '.records.blocks');
    const fromBlocks = compare(
      `${n} records in records.jsonl, first report (reads the run's column blocks, writes the index)`,
      root,
      argv,
      '',
      () => rmSync(index, { force: true }),
    );
    renameSync(blocks, `${blocks}.away`);
    const fromLines = compare(
      `${n} records in records.jsonl without the run's blocks, first report (reads the lines, writes the index)`,
      root,
      argv,
      '',
      () => rmSync(index, { force: true }),
    );
    renameSync(`${blocks}.away`, blocks);
    console.log(`  the same output from the blocks as from the lines: ${fromBlocks === fromLines ? 'yes' : 'NO'}`);
    compare(`${n} records in records.jsonl, later reports (read the index)`, root, argv);
  }
  compare(
    `${LEGACY_JOBS * 2} log files of the Python original (${LEGACY_JOBS} jobs)`,
    root,
    ['report', 'true', 'original', '--overhead', 'baseline', '-f', 'estimated_runtime:median', 'maxrss:median'],
    " (expected: the older build read each job's stdout and stderr logs as two benchmarks)",
  );
  console.log(
    `\nload average at end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  if (!OLD) console.log('(no --old DIR given: the older build was not timed)');
} finally {
  if (!process.env.KEEP) rmSync(root, { recursive: true, force: true });
  else console.log(root);
  if (!existsSync(NEW_CLI)) console.log('bin/infra.js missing: run npm run build');
}
