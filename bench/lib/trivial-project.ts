// A throw-away project whose one benchmark runs a given program (`--program PATH`, default
// /bin/true) under `infra run`, with a hook that makes infra write its own CPU time and peak
// RSS (its process alone) to $INFRA_BENCH_OWN_CPU when it exits.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SETUP = `import { Setup, Target, Instance, type Context, type Runner, type ArgParser } from 'instrumentation-infra';
class Bench extends Target {
  readonly name = 'bench';
  override addRunArgs(p: ArgParser) { p.option('--program <path>', 'program', { default: '/bin/true' }); }
  isFetched() { return true; } fetch() {} build() {}
  run(ctx: Context, _i: Instance, runner: Runner) {
    runner.submit(ctx, { benchmark: 'prog', argv: [ctx.args.program] });
  }
}
class Plain extends Instance { readonly name = 'plain'; }
const setup = new Setup(import.meta.url);
setup.addTarget(new Bench());
setup.addInstance(new Plain());
await setup.main();
`;

const HOOK = `import { writeFileSync } from 'node:fs';
process.on('exit', () => {
  const file = process.env.INFRA_BENCH_OWN_CPU;
  if (file) writeFileSync(file, JSON.stringify({ ...process.cpuUsage(), maxRSS: process.resourceUsage().maxRSS }));
});
`;

export interface RunRecord {
  start: string;
  fields: Record<string, number>;
}

export interface RunOutcome {
  records: RunRecord[];
  /** infra's own CPU time, ms (its process only) */
  ownCpuMs: number;
  /** infra's own peak RSS, KiB */
  maxRssKiB: number;
  wallMs: number;
}

export class TrivialProject {
  readonly dir = mkdtempSync(join(tmpdir(), 'infra-bench-trivial-'));
  private readonly hook = join(this.dir, 'own-cpu.mjs');

  constructor() {
    writeFileSync(join(this.dir, 'setup.ts'), SETUP);
    writeFileSync(this.hook, HOOK);
    // its results are thousands of log files: gone when the benchmark ends, however it ends
    process.on('exit', () => rmSync(this.dir, { recursive: true, force: true }));
  }

  /**
   * `infra run bench plain ARGS` with the CLI `cli`. With `tty`, inside a pseudo-terminal
   * (`script`), so the live status block is drawn.
   */
  run(cli: string, args: string[], options: { tty?: boolean } = {}): RunOutcome {
    const cpuFile = join(this.dir, 'cpu.json');
    const env = { ...process.env, NODE_OPTIONS: `--import ${this.hook}`, INFRA_BENCH_OWN_CPU: cpuFile };
    const argv = [process.execPath, cli, 'run', 'bench', 'plain', ...args];
    // the output (a line per execution off a terminal) goes to a file: it can be megabytes
    const log = join(this.dir, 'run.log');
    const out = openSync(log, 'w');
    const t0 = process.hrtime.bigint();
    const r = options.tty
      ? spawnSync('script', ['-qec', argv.map((a) => `'${a}'`).join(' '), '/dev/null'], { cwd: this.dir, env, stdio: ['ignore', out, out] })
      : spawnSync(argv[0]!, argv.slice(1), { cwd: this.dir, env, stdio: ['ignore', out, out] });
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    closeSync(out);
    if (r.status !== 0) throw new Error(`infra run failed (${r.signal ?? r.status}): ${readFileSync(log, 'utf8').slice(-2000)}`);
    const cpu = JSON.parse(readFileSync(cpuFile, 'utf8')) as { user: number; system: number; maxRSS: number };
    const records = readFileSync(join(this.dir, 'results', 'last', 'records.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as RunRecord);
    return { records, ownCpuMs: (cpu.user + cpu.system) / 1000, maxRssKiB: cpu.maxRSS, wallMs };
  }
}

/** ms from one execution's start to the next, over records[from..to) (by start time). */
export function perExecution(records: RunRecord[], from = 0, to = records.length): number {
  const starts = records
    .map((r) => Date.parse(r.start))
    .sort((a, b) => a - b)
    .slice(from, to);
  return (starts[starts.length - 1]! - starts[0]!) / (starts.length - 1);
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
