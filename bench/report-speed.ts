/**
 * How fast is `report` on a large run? Writes a results directory with 100,000 execution
 * records (5 instances x 100 benchmarks x 200 iterations, a few failures) and times the
 * report in-process (default view, overheads with significance tests, raw) and, when the
 * compiled CLI exists, as `infra report` in a project directory. Target: <= 2 s.
 *
 *   node --import tsx bench/report-speed.ts [records]      (KEEP=1 keeps the generated directory)
 *
 * `--ci` (bootstrap by resampling) is timed too but not held to the limit: its cost grows
 * with iterations x comparisons x resamples, and it is an opt-in extra.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { reportText, type ReportOptions } from '../src/commands/report.js';
import { Context, makePaths } from '../src/core/context.js';
import { Logger } from '../src/core/log.js';
import { Target } from '../src/core/target.js';
import type { ExecutionRecord } from '../src/results/schema.js';

const TOTAL = Number(process.argv[2] ?? 100_000);
const INSTANCES = ['baseline', 'asan', 'ubsan', 'safestack', 'mine'];
const BENCHMARKS = 100;
const ITERATIONS = Math.ceil(TOTAL / INSTANCES.length / BENCHMARKS);
const LIMIT_S = 2;

class BenchTarget extends Target {
  name = 'bench';
  isFetched() {
    return true;
  }
  fetch() {}
  build() {}
  run() {}
}

function writeResults(dir: string): number {
  mkdirSync(dir, { recursive: true });
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const lines: string[] = [];
  for (let b = 0; b < BENCHMARKS; b++) {
    const base = 0.5 + (b % 17) * 0.3;
    for (const [k, instance] of INSTANCES.entries()) {
      for (let i = 0; i < ITERATIONS && lines.length < TOTAL; i++) {
        const runtime = base * (1 + k * 0.07) * (1 + (rand() - 0.5) * 0.02);
        const failed = rand() < 0.001;
        const r: ExecutionRecord = {
          schema: 1,
          target: 'bench',
          instance,
          benchmark: `b${String(b).padStart(3, '0')}`,
          iteration: i,
          host: 'node1',
          status: failed ? 'failed' : 'ok',
          exitCode: failed ? 1 : 0,
          signal: null,
          start: new Date(1_700_000_000_000 + lines.length * 1000).toISOString(),
          fields: {
            runtime,
            utime: runtime * 0.95,
            stime: runtime * 0.02,
            maxrss: Math.round(20_000 * (1 + k * 0.5)),
            minflt: 1000 + i,
            majflt: 0,
            nvcsw: 3,
            nivcsw: Math.round(rand() * 10),
          },
          stdout: `logs/bench/${instance}/b${b}.${i}.stdout`,
          stderr: `logs/bench/${instance}/b${b}.${i}.stderr`,
        };
        lines.push(JSON.stringify(r));
      }
    }
  }
  writeFileSync(join(dir, 'records.jsonl'), lines.join('\n') + '\n');
  return lines.length;
}

async function timeInProcess(label: string, ctx: Context, opts: ReportOptions): Promise<number> {
  const t0 = performance.now();
  const text = await reportText(ctx, new BenchTarget(), opts);
  const s = (performance.now() - t0) / 1000;
  console.log(`${label.padEnd(44)} ${s.toFixed(3)} s  (${text.length} bytes of output)`);
  return s;
}

const root = mkdtempSync(join(tmpdir(), 'infra-report-speed-'));
try {
  const rundir = join(root, 'results', 'run.2025-01-01.00-00-00');
  const t0 = performance.now();
  const n = writeResults(rundir);
  console.log(`wrote ${n} records in ${((performance.now() - t0) / 1000).toFixed(2)} s`);

  const quiet = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
  const ctx = new Context(makePaths(root, join(root, 'setup.ts'), 'bench'), new Logger('info', undefined, quiet));
  const times = [
    await timeInProcess('in-process: default view', ctx, { rundirs: [rundir] }),
    await timeInProcess('in-process: --overhead baseline (+ MWU tests)', ctx, {
      rundirs: [rundir],
      overhead: 'baseline',
      field: ['runtime:median', 'maxrss:median'],
    }),
    await timeInProcess('in-process: --raw --table csv', ctx, { rundirs: [rundir], raw: true, table: 'csv' }),
  ];

  await timeInProcess('in-process: --overhead baseline --ci (opt-in)', ctx, {
    rundirs: [rundir],
    overhead: 'baseline',
    field: ['runtime:median'],
    ci: true,
  });

  const cli = resolve(import.meta.dirname, '..', 'bin', 'infra.js');
  if (existsSync(cli) && existsSync(resolve(import.meta.dirname, '..', 'dist', 'commands', 'report.js'))) {
    writeFileSync(
      join(root, 'setup.ts'),
      [
        "import { Setup, Target } from 'instrumentation-infra';",
        'class Bench extends Target {',
        "  name = 'bench';",
        '  isFetched() { return true; }',
        '  fetch() {}',
        '  build() {}',
        '  run() {}',
        '}',
        'const setup = new Setup(import.meta.url);',
        'setup.addTarget(new Bench());',
        'await setup.main();',
        '',
      ].join('\n'),
    );
    for (const args of [
      ['report', 'bench', 'results/last'],
      ['report', 'bench', 'results/last', '--overhead', 'baseline'],
    ]) {
      if (!existsSync(join(root, 'results', 'last'))) {
        spawnSync('ln', ['-s', 'run.2025-01-01.00-00-00', join(root, 'results', 'last')]);
      }
      spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' }); // warm the setup cache
      const c0 = performance.now();
      const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      const s = (performance.now() - c0) / 1000;
      if (r.status !== 0) {
        console.log(`CLI: infra ${args.join(' ')} exited ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      } else {
        console.log(`${('CLI: infra ' + args.join(' ')).padEnd(44)} ${s.toFixed(3)} s  (whole process)`);
        times.push(s);
      }
    }
  } else {
    console.log('CLI: not built (run `npx tsc -p .`), skipped');
  }
  const worst = Math.max(...times);
  console.log(`slowest: ${worst.toFixed(3)} s for ${n} records; limit ${LIMIT_S} s: ${worst <= LIMIT_S ? 'ok' : 'TOO SLOW'}`);
  if (worst > LIMIT_S) process.exitCode = 1;
} finally {
  if (!process.env.KEEP) rmSync(root, { recursive: true, force: true });
  else console.log(root);
}
