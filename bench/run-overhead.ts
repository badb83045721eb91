// What `infra run` adds per execution of a trivial program, beside `hyperfine -N` and beside
// the previous design (a new measurement helper process per execution), measured interleaved.
//   node --import tsx bench/run-overhead.ts [--count N] [--rounds R] [--program PATH]
//        [--baseline DIR|none] [--no-accuracy]
// 1. Per round (R rounds, default 3, variants in a rotating order): hyperfine -N --runs N on the
//    program; `infra run` with N executions serially and with --parallel proc --parallelmax 2;
//    the same two with the previous design. Per execution: hyperfine's wall time / N and its
//    mean; ours from the records' start times (first to last, so the CLI's start-up is not
//    counted) and infra's own CPU time (its process only, not the helpers' or the program's).
//    Medians over the rounds, the difference to hyperfine and the ratios.
// 2. A ~1.5 s CPU-bound program measured 10 times by `infra run` and by hyperfine: medians and
//    coefficients of variation side by side (skipped with --no-accuracy).
// The previous design is the build of `git merge-base HEAD main` in a temporary clone (bundled
// once, reused from --baseline DIR, or left out with --baseline none). Prints figures; asserts
// nothing. The machine's load shifts every figure: compare the columns of one run. The project
// (its records and the benchmark's log files) is made under $TMPDIR: TMPDIR=/dev/shm takes the
// disk's cost of creating files out of the figures.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { median, perExecution, TrivialProject } from './lib/trivial-project.ts';

const { values: opts } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    program: { type: 'string', default: '/bin/true' },
    baseline: { type: 'string' },
    'no-accuracy': { type: 'boolean', default: false },
  },
});
const count = Number(opts.count);
const rounds = Number(opts.rounds);
const repo = resolve(import.meta.dirname, '..');
const project = new TrivialProject();
const dir = project.dir;
writeFileSync(
  join(dir, 'spin.c'),
  '#include <stdio.h>\nint main(void){ unsigned long s=1; for (unsigned long i=0;i<1100000000UL;i++) s = s*31 + (i ^ (s>>7)); printf("%lu\\n", s); return 0; }\n',
);
execFileSync('cc', ['-O2', join(dir, 'spin.c'), '-o', join(dir, 'spin')]);

function baselineCli(): string | null {
  if (opts.baseline === 'none') return null;
  if (opts.baseline) return join(resolve(opts.baseline), 'bin', 'infra.js');
  const commit = execFileSync('git', ['-C', repo, 'merge-base', 'HEAD', 'main'], { encoding: 'utf8' }).trim();
  const clone = join(dir, 'baseline');
  execFileSync('git', ['clone', '--quiet', '--shared', '--no-checkout', repo, clone]);
  execFileSync('git', ['-C', clone, 'checkout', '--quiet', commit]);
  symlinkSync(join(repo, 'node_modules'), join(clone, 'node_modules'));
  execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: clone, stdio: 'ignore' });
  console.log(`previous design: ${commit.slice(0, 10)} (merge-base with main), bundled in ${clone}`);
  return join(clone, 'bin', 'infra.js');
}

interface Sample {
  /** ms per execution, end to end */
  perExec: number;
  /** ms of infra's own CPU per execution (start-up included, spread over the executions) */
  ownCpu?: number;
  /** hyperfine's mean time of one run, ms */
  mean?: number;
}

function hyperfineTimes(program: string, runs: number): { times: number[]; wall: number } {
  const out = join(dir, 'h.json');
  const t0 = process.hrtime.bigint();
  execFileSync('hyperfine', ['-N', '--warmup', '3', '--runs', String(runs), '--export-json', out, program], { stdio: 'ignore' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  return { times: JSON.parse(readFileSync(out, 'utf8')).results[0].times as number[], wall };
}

function hyperfine(program: string, runs: number): Sample {
  const { times, wall } = hyperfineTimes(program, runs);
  return { perExec: wall / (runs + 3), mean: (1000 * times.reduce((a, b) => a + b, 0)) / times.length };
}

function ours(cli: string, parallel: boolean): Sample {
  const args = ['--program', opts.program!, '-i', String(count)];
  if (parallel) args.push('--parallel', 'proc', '--parallelmax', '2');
  const { records, ownCpuMs } = project.run(cli, args);
  return { perExec: perExecution(records), ownCpu: ownCpuMs / records.length };
}

const cv = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  return (100 * sd) / mean;
};

const current = join(repo, 'bin', 'infra.js');
const previous = baselineCli();
// warm up: the setup cache and the measurement helper of each build
project.run(current, ['-i', '1']);
if (previous) project.run(previous, ['-i', '1']);

const variants: Array<[string, () => Sample]> = [
  ['hyperfine -N', () => hyperfine(opts.program!, count)],
  ['ours, serial', () => ours(current, false)],
  ['ours, --parallel proc (2)', () => ours(current, true)],
];
if (previous) {
  variants.push(['previous, serial', () => ours(previous, false)]);
  variants.push(['previous, --parallel proc (2)', () => ours(previous, true)]);
}
const samples = new Map<string, Sample[]>(variants.map(([name]) => [name, []]));
const loads: number[] = [];
const creates: number[] = [];

/**
 * What creating a file costs here now (us; 300 empty files in a fresh directory beside the
 * project's results): every execution creates two, its logs, and hyperfine none. On some
 * virtual machines this moves by 10-50x within an hour, and the figures with it.
 */
function fileCreationUs(): number {
  const where = mkdtempSync(join(dir, 'creating-'));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 300; i++) closeSync(openSync(join(where, String(i)), 'w'));
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / 300;
  rmSync(where, { recursive: true, force: true });
  return us;
}
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < variants.length; k++) {
    const [name, run] = variants[(k + round) % variants.length]!;
    samples.get(name)!.push(run());
  }
  loads.push(loadavg()[0]!);
  creates.push(fileCreationUs());
}

const med = (name: string, key: keyof Sample) => {
  const xs = samples
    .get(name)!
    .map((s) => s[key])
    .filter((x): x is number => x !== undefined);
  return xs.length ? median(xs) : undefined;
};
const floor = med('hyperfine -N', 'perExec')!;
const fmt = (x: number | undefined, digits = 2) => (x === undefined ? '-' : x.toFixed(digits));
console.log(
  `\n1. ${count} executions of ${opts.program}, ${rounds} interleaved rounds (medians; load average ${loads.map((l) => l.toFixed(1)).join(', ')}: ` +
    `figures taken under load vary)`,
);
console.log(
  `   ${'variant'.padEnd(32)}${'ms/exec'.padStart(9)}${'- hyperfine'.padStart(13)}${'x hyperfine'.padStart(13)}${'own CPU ms/exec'.padStart(17)}`,
);
for (const [name] of variants) {
  const per = med(name, 'perExec')!;
  console.log(
    `   ${name.padEnd(32)}${fmt(per).padStart(9)}${fmt(per - floor).padStart(13)}${fmt(per / floor).padStart(13)}${fmt(med(name, 'ownCpu'), 3).padStart(17)}`,
  );
}
console.log(`   hyperfine's mean time of one run (the program alone): ${fmt(med('hyperfine -N', 'mean'))} ms`);
if (previous) {
  for (const mode of ['serial', '--parallel proc (2)']) {
    const before = med(`previous, ${mode}`, 'perExec')!;
    const after = med(`ours, ${mode}`, 'perExec')!;
    console.log(`   ${mode}: previous / ours = ${(before / after).toFixed(2)}x`);
  }
}
console.log(
  `   creating a file here after each round: ${creates.map((us) => us.toFixed(0)).join(', ')} us (two per execution; hyperfine creates none)`,
);
console.log('   target: ours at most 0.3 ms per execution above hyperfine -N, serially and in parallel');

if (!opts['no-accuracy']) {
  const spin = join(dir, 'spin');
  const spinInfra = project.run(current, ['--program', spin, '-i', '10']).records.map((r) => r.fields.runtime!);
  const spinHyper = hyperfineTimes(spin, 10).times;
  console.log(`\n2. CPU-bound program, 10 executions each`);
  console.log(`   ${'tool'.padEnd(12)}${'median'.padStart(10)}${'CV'.padStart(9)}`);
  for (const [tool, xs] of [
    ['infra run', spinInfra],
    ['hyperfine', spinHyper],
  ] as const) {
    console.log(`   ${tool.padEnd(12)}${(median(xs).toFixed(4) + ' s').padStart(10)}${(cv(xs).toFixed(2) + '%').padStart(9)}`);
  }
  const diff = (100 * (median(spinInfra) - median(spinHyper))) / median(spinHyper);
  console.log(`   medians differ by ${diff.toFixed(2)}% (target: within 1%)`);
}
