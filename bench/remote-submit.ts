// What each execution costs on the remote backends, before and after batching: one Slurm
// job per execution against batches of executions per job, and a new ssh + shell + tar per
// execution against long-lived ssh sessions, on the loopback test services
// (scripts/start-test-services.sh: sshd on 127.0.0.1:2222 and a single-node Slurm; run as root).
//   SLURM_CONF=/tmp/infra-services/slurm.conf node --import tsx bench/remote-submit.ts [--n 1000] [--n-before 60] [--rounds 1]
// The previous design is a build of an earlier commit in a temporary clone (--before-rev, made
// once under $TMPDIR). Cost per execution = (wall time of N executions − wall time of 1) / (N − 1),
// so connecting, starting the CLI and building the helper are left out. The previous design's
// Slurm and ssh runs use fewer executions (--n-before; one job or one ssh per execution, the
// cost is linear in N). Each round runs every variant once, interleaved. Prints figures;
// asserts nothing. Figures depend on the machine's load: say so when quoting them.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    'n-before': { type: 'string', default: '60' },
    rounds: { type: 'string', default: '1' },
    'before-rev': { type: 'string', default: '5e5fae0' },
    parallelmax: { type: 'string', default: '2' },
  },
});
const N = Number(values.n);
const N_BEFORE = Number(values['n-before']);
const repo = resolve(import.meta.dirname, '..');

function beforeBuild(rev: string): string {
  const dir = join(tmpdir(), `infra-bench-before-${rev}`);
  if (existsSync(join(dir, 'dist'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  execFileSync('git', ['clone', '--quiet', repo, dir]);
  execFileSync('git', ['-C', dir, 'checkout', '--quiet', rev]);
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  execFileSync('npm', ['run', 'build'], { cwd: dir, stdio: 'ignore' });
  return dir;
}

const project = mkdtempSync(join(tmpdir(), 'infra-bench-remote-'));
writeFileSync(
  join(project, 'setup.ts'),
  `import { Setup, Target, Instance, type Context, type Runner } from 'instrumentation-infra';
class Trivial extends Target {
  readonly name = 'trivial';
  isFetched() { return true; } fetch() {} build() {}
  run(ctx: Context, _i: Instance, runner: Runner) { runner.submit(ctx, { benchmark: 'true', argv: ['/bin/true'] }); }
}
class Plain extends Instance { readonly name = 'plain'; }
const setup = new Setup(import.meta.url);
setup.addTarget(new Trivial());
setup.addInstance(new Plain());
await setup.main();
`,
);

const builds = { before: beforeBuild(values['before-rev']), after: repo };
const pm = values.parallelmax;
const MODES: Record<string, string[]> = {
  local: [],
  ssh: ['--parallel', 'ssh', '--ssh-nodes', '127.0.0.1:2222'],
  slurm: ['--parallel', 'slurm', '--parallelmax', pm],
};

/** Wall seconds of `infra run` with `n` executions; the number of Slurm jobs when it says. */
function run(build: 'before' | 'after', mode: string, n: number): { wall: number; jobs?: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(
    process.execPath,
    [join(builds[build], 'bin', 'infra.js'), 'run', 'trivial', 'plain', '-v', '-i', String(n), ...MODES[mode]!],
    {
      cwd: project,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    },
  );
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  // the previous ssh design fails an execution now and then under load; that is counted, not fatal
  if (r.status !== 0 && !/ ok[, ]/.test(r.stderr)) throw new Error(`${build} ${mode} -i ${n} failed:\n${r.stderr.slice(-2000)}`);
  if (r.status !== 0) console.error(`  (${build} ${mode} -i ${n}: ${/infra: (.*) \(of/.exec(r.stderr)?.[1] ?? 'some failed'})`);
  const jobs = /--parallel slurm: (\d+) job/.exec(r.stderr)?.[1];
  return { wall, jobs: jobs ? Number(jobs) : mode === 'slurm' ? n : undefined };
}

interface Variant {
  label: string;
  build: 'before' | 'after';
  mode: string;
  n: number;
}
const variants: Variant[] = [
  { label: 'local, serial (reference)', build: 'after', mode: 'local', n: N },
  { label: 'ssh, one node: before (ssh + shell + tar per execution)', build: 'before', mode: 'ssh', n: N_BEFORE },
  { label: 'ssh, one node: after (long-lived session)', build: 'after', mode: 'ssh', n: N },
  { label: `slurm, --parallelmax ${pm}: before (one job per execution)`, build: 'before', mode: 'slurm', n: N_BEFORE },
  { label: `slurm, --parallelmax ${pm}: after (batches)`, build: 'after', mode: 'slurm', n: N },
];

// warm up: setup cache, helpers on both builds
for (const v of variants) run(v.build, v.mode, 1);

const costs = new Map<string, number[]>();
const jobs = new Map<string, number>();
for (let round = 0; round < Number(values.rounds); round++) {
  for (const v of variants) {
    const one = run(v.build, v.mode, 1).wall;
    const many = run(v.build, v.mode, v.n);
    costs.set(v.label, [...(costs.get(v.label) ?? []), (many.wall - one) / (v.n - 1)]);
    if (many.jobs !== undefined) jobs.set(v.label, many.jobs);
    console.error(`round ${round + 1}: ${v.label}: ${v.n} in ${many.wall.toFixed(1)} s (1 in ${one.toFixed(1)} s)`);
  }
}
rmSync(project, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const ms = (label: string) => 1000 * median(costs.get(label)!);
console.log(`Cost per execution of /bin/true (marginal wall time, median of ${values.rounds} interleaved round(s); machine under load)`);
for (const v of variants) {
  const j = jobs.get(v.label);
  console.log(
    `  ${v.label.padEnd(58)} ${ms(v.label).toFixed(1).padStart(8)} ms   (${v.n} executions${j !== undefined ? `, ${j} sbatch call(s)` : ''})`,
  );
}
const [local, sshBefore, sshAfter, slurmBefore, slurmAfter] = variants.map((v) => ms(v.label));
console.log(
  `  ssh: ${(sshBefore! / sshAfter!).toFixed(1)}x cheaper than before; ${(sshAfter! - local!).toFixed(1)} ms above a local execution`,
);
console.log(`  slurm: ${(slurmBefore! / slurmAfter!).toFixed(1)}x cheaper than before`);
