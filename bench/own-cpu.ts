// How much CPU infra itself uses during a run, beside the wall time and the CPU time of everything
// it ran (the measurement helpers and the benchmarks).
//   node --import tsx bench/own-cpu.ts [--dir DIR] [--previous CLI] [-- INFRA ARGS...]
// Default: in examples/quickstart, the quick start's run of the built-in kernels
// (`run kernels clang asan --iterations 4 --warmup 1`), built first if needed
// (`build kernels clang asan --parallel proc`; needs clang-22 and the offline source mirror).
// With --previous (another build's bin/infra.js, e.g. of main) both run, alternating, 2 times each.
// Infra's own CPU is its process's (all its threads; process.cpuUsage at exit, through a
// --import hook); the total is user + system time of the whole tree as /usr/bin/time sees it.
// Prints figures; asserts nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opts, positionals } = parseArgs({
  options: { dir: { type: 'string' }, previous: { type: 'string' } },
  allowPositionals: true,
});
const repo = resolve(import.meta.dirname, '..');
const dir = resolve(opts.dir ?? join(repo, 'examples', 'quickstart'));
const args = positionals.length ? positionals : ['run', 'kernels', 'clang', 'asan', '--iterations', '4', '--warmup', '1'];
const current = join(repo, 'bin', 'infra.js');
const tmp = mkdtempSync(join(tmpdir(), 'infra-bench-cpu-'));
const hook = join(tmp, 'own-cpu.mjs');
writeFileSync(
  hook,
  `import { writeFileSync } from 'node:fs';
process.on('exit', () => writeFileSync(process.env.INFRA_BENCH_OWN_CPU, JSON.stringify(process.cpuUsage())));
`,
);

if (!positionals.length && !existsSync(join(dir, 'build', 'targets', 'kernels'))) {
  console.log('building the kernels first (clang, asan)...');
  execFileSync(process.execPath, [current, 'build', 'kernels', 'clang', 'asan', '--parallel', 'proc'], { cwd: dir, stdio: 'inherit' });
}

interface Figures {
  wall: number;
  total: number;
  own: number;
  executions: number;
}

function measure(cli: string): Figures {
  const cpuFile = join(tmp, 'cpu.json');
  const timeFile = join(tmp, 'time.txt');
  const env = { ...process.env, NODE_OPTIONS: `--import ${hook}`, INFRA_BENCH_OWN_CPU: cpuFile };
  const r = spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%e %U %S', process.execPath, cli, ...args], {
    cwd: dir,
    env,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`infra ${args.join(' ')} failed:\n${r.stderr}`);
  const [wall, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
  const own = JSON.parse(readFileSync(cpuFile, 'utf8')) as { user: number; system: number };
  const last = join(dir, 'results', 'last', 'records.jsonl');
  const executions = existsSync(last) ? readFileSync(last, 'utf8').split('\n').filter(Boolean).length : 0;
  return { wall, total: user + sys, own: (own.user + own.system) / 1e6, executions };
}

const variants: Array<[string, string]> = [['ours', current]];
if (opts.previous) variants.push(['previous', resolve(opts.previous)]);
const times = opts.previous ? 2 : 1;
const results: Array<[string, Figures]> = [];
for (let i = 0; i < times; i++) for (const [name, cli] of i % 2 ? [...variants].reverse() : variants) results.push([name, measure(cli)]);

console.log(`\ninfra ${args.join(' ')}  (in ${dir}; load average ${loadavg()[0]!.toFixed(1)}: figures taken under load)`);
console.log(
  `   ${'build'.padEnd(10)}${'executions'.padStart(11)}${'wall s'.padStart(9)}${'CPU s (all)'.padStart(13)}${'infra CPU s'.padStart(13)}${'of wall'.padStart(9)}${'of CPU'.padStart(9)}`,
);
for (const [name, f] of results) {
  console.log(
    `   ${name.padEnd(10)}${String(f.executions).padStart(11)}${f.wall.toFixed(2).padStart(9)}${f.total.toFixed(2).padStart(13)}` +
      `${f.own.toFixed(3).padStart(13)}${((100 * f.own) / f.wall).toFixed(2).padStart(8)}%${((100 * f.own) / f.total).toFixed(2).padStart(8)}%`,
  );
}
console.log("   target: infra's own CPU under 2% of the total (its start-up, about 0.3 s of CPU, included)");
