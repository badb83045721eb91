// What `infra run` adds per execution, and how its timings compare with hyperfine's.
//   node --import tsx bench/run-overhead.ts
// 1. 500 executions of a trivial program through `infra run --parallel proc --parallelmax 2`:
//    wall time per execution beside `hyperfine -N` on the same program (the floor of spawning it).
// 2. A ~1.5 s CPU-bound program measured 10 times by `infra run` and by hyperfine: medians and
//    coefficients of variation side by side.
// Prints figures; asserts nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const infra = join(repo, 'bin', 'infra.js');
const dir = mkdtempSync(join(tmpdir(), 'infra-bench-run-'));
mkdirSync(join(dir, 'bin'));
writeFileSync(join(dir, 'trivial.c'), 'int main(void){return 0;}\n');
writeFileSync(
  join(dir, 'spin.c'),
  '#include <stdio.h>\nint main(void){ unsigned long s=1; for (unsigned long i=0;i<1100000000UL;i++) s = s*31 + (i ^ (s>>7)); printf("%lu\\n", s); return 0; }\n',
);
execFileSync('cc', ['-O2', join(dir, 'trivial.c'), '-o', join(dir, 'bin', 'trivial')]);
execFileSync('cc', ['-O2', join(dir, 'spin.c'), '-o', join(dir, 'bin', 'spin')]);
writeFileSync(
  join(dir, 'setup.ts'),
  `import { Setup, Target, Instance, type Context, type Runner, type ArgParser } from 'instrumentation-infra';
import { join } from 'node:path';
class Bench extends Target {
  readonly name = 'bench';
  override addRunArgs(p: ArgParser) { p.option('--program <name>', 'program', { default: 'trivial' }); }
  isFetched() { return true; } fetch() {} build() {}
  run(ctx: Context, _i: Instance, runner: Runner) {
    runner.submit(ctx, { benchmark: ctx.args.program, argv: [join(import.meta.dirname, 'bin', ctx.args.program)] });
  }
}
class Plain extends Instance { readonly name = 'plain'; }
const setup = new Setup(import.meta.url);
setup.addTarget(new Bench());
setup.addInstance(new Plain());
await setup.main();
`,
);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const cv = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  return (100 * sd) / mean;
};

function hyperfine(cmd: string, runs: number): number[] {
  const out = join(dir, 'h.json');
  execFileSync('hyperfine', ['-N', '--warmup', '3', '--runs', String(runs), '--export-json', out, cmd], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return JSON.parse(readFileSync(out, 'utf8')).results[0].times as number[];
}

function infraRun(args: string[]): { wall: number; runtimes: number[] } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [infra, 'run', 'bench', 'plain', ...args], { cwd: dir, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(r.stderr);
  const recs = readFileSync(join(dir, 'results', 'last', 'records.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  return { wall, runtimes: recs.map((x) => x.fields.runtime as number) };
}

// warm up: compiles the setup cache and the measurement helper
infraRun(['--program', 'trivial']);

const n = 500;
const start = infraRun(['--program', 'trivial', '-i', '1']).wall;
const many = infraRun(['--program', 'trivial', '-i', String(n), '--parallel', 'proc', '--parallelmax', '2']);
const floor = median(hyperfine(join(dir, 'bin', 'trivial'), 200));
const perExec = (many.wall - start) / n;
console.log(`\n1. ${n} executions of a trivial program`);
console.log(
  `   infra run --parallel proc --parallelmax 2: ${many.wall.toFixed(2)} s total, ${(perExec * 1000).toFixed(2)} ms per execution (start-up of ${start.toFixed(2)} s excluded)`,
);
console.log(`   hyperfine -N (spawning it directly):      ${(floor * 1000).toFixed(2)} ms per execution`);
console.log(`   overhead per execution: ${((perExec - floor) * 1000).toFixed(2)} ms (target: at most 5 ms)`);

const spinInfra = infraRun(['--program', 'spin', '-i', '10']).runtimes;
const spinHyper = hyperfine(join(dir, 'bin', 'spin'), 10);
console.log(`\n2. CPU-bound program, 10 executions each`);
console.log(`   ${'tool'.padEnd(12)}${'median'.padStart(10)}${'CV'.padStart(9)}`);
console.log(
  `   ${'infra run'.padEnd(12)}${(median(spinInfra).toFixed(4) + ' s').padStart(10)}${(cv(spinInfra).toFixed(2) + '%').padStart(9)}`,
);
console.log(
  `   ${'hyperfine'.padEnd(12)}${(median(spinHyper).toFixed(4) + ' s').padStart(10)}${(cv(spinHyper).toFixed(2) + '%').padStart(9)}`,
);
const diff = (100 * (median(spinInfra) - median(spinHyper))) / median(spinHyper);
console.log(`   medians differ by ${diff.toFixed(2)}% (target: within 1%)`);
