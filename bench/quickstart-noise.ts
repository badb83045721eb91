// Where the quick start's variation comes from: the same workloads (bzip2 and lua of the
// open-source suite at the train inputs, clang and asan) run by `infra run` two at a time (as the
// quick start does) and one at a time, and the baseline's bzip2 decompression run by
// `hyperfine -N` on its own. Prints the coefficient of variation of wall time and of CPU time
// (user + system) per benchmark and instance for each schedule, their medians, and hyperfine's.
// If hyperfine alone varies as much as `infra run` one at a time, the variation is the machine's.
//   node --import tsx bench/quickstart-noise.ts [ITERATIONS]
// Needs the quick start's build (`bash scripts/quickstart.sh` once, or `infra build quickstart
// clang asan` in examples/quickstart) and hyperfine. Prints figures; asserts nothing.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cv as fraction, median } from '../src/report/stats.ts';
import { readRecords } from '../src/results/read.ts';

const cv = (xs: number[]) => 100 * fraction(xs);
const repo = resolve(import.meta.dirname, '..');
const project = join(repo, 'examples/quickstart');
const iterations = process.argv[2] ?? '8';
const infra = (args: string[]) =>
  spawnSync(process.execPath, [join(repo, 'bin/infra.js'), ...args], { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const bzip2 = join(project, 'build/targets/opensource/clang/bzip2/src/bzip2');
const compressed = join(project, 'build/targets/opensource/clang/bzip2/run/train/decompress/input.txt.bz2');

interface Fields {
  runtime: number;
  utime: number;
  stime: number;
}
type Groups = Map<string, Fields[]>;

/** One `infra run` of the selection with the given extra options; its successful records by benchmark and instance. */
function runSchedule(extra: string[]): Groups {
  const argv = [
    'run',
    'opensource',
    'clang',
    'asan',
    '--benchmarks',
    'bzip2',
    'lua',
    '--train',
    '-i',
    iterations,
    '--warmup',
    '1',
    ...extra,
  ];
  const started = performance.now();
  const r = infra(argv);
  if (r.status !== 0) throw new Error(`infra ${argv.join(' ')} failed:\n${r.stderr}`);
  console.log(`infra ${argv.join(' ')} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  const groups: Groups = new Map();
  for (const rec of readRecords(join(project, 'results/last')).records) {
    if (rec.status !== 'ok') continue;
    const key = `${rec.benchmark} ${rec.instance}`;
    const group = groups.get(key) ?? [];
    const { runtime, utime, stime } = rec.fields;
    group.push({ runtime: Number(runtime), utime: Number(utime), stime: Number(stime) });
    groups.set(key, group);
  }
  return groups;
}

if (!existsSync(bzip2) || !existsSync(compressed)) {
  console.error('build the quick start first: bash scripts/quickstart.sh (or infra build quickstart clang asan in examples/quickstart)');
  process.exit(1);
}
console.log(`load average at start: ${loadavg()[0]!.toFixed(2)}`);
const schedules: Array<[string, Groups]> = [
  ['two at a time', runSchedule(['--parallel', 'proc'])],
  ['one at a time', runSchedule([])],
];

// hyperfine on the baseline's decompression: the same binary and input, nothing of ours around it
// (the output goes to /dev/null instead of a file)
const scratch = mkdtempSync(join(tmpdir(), 'infra-noise-'));
copyFileSync(compressed, join(scratch, 'in.bz2'));
const h = spawnSync(
  'hyperfine',
  [
    '-N',
    '--runs',
    iterations,
    '--warmup',
    '1',
    '--output',
    'null',
    '--export-json',
    join(scratch, 'h.json'),
    `${bzip2} -d -c ${join(scratch, 'in.bz2')}`,
  ],
  { encoding: 'utf8' },
);
const hres =
  h.status === 0
    ? (JSON.parse(readFileSync(join(scratch, 'h.json'), 'utf8')) as { results: Array<{ times: number[]; user: number }> }).results[0]!
    : undefined;
rmSync(scratch, { recursive: true, force: true });
if (!hres) throw new Error(`hyperfine failed: ${h.stderr}`);

console.log(`\nCV in % (population stdev / mean), ${iterations} executions per group; cpu = user + system`);
console.log(`${'benchmark instance'.padEnd(26)}${schedules.map(([l]) => `${l.padStart(16)} wall   cpu`).join('')}`);
const medians = schedules.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
for (const key of [...schedules[0]![1].keys()].sort()) {
  let line = key.padEnd(26);
  schedules.forEach(([, groups], i) => {
    const fs = groups.get(key) ?? [];
    const [w, c] = [cv(fs.map((f) => f.runtime)), cv(fs.map((f) => f.utime + f.stime))];
    medians[i]!.wall.push(w);
    medians[i]!.cpu.push(c);
    line += `${w.toFixed(1).padStart(21)} ${c.toFixed(1).padStart(5)}`;
  });
  console.log(line);
}
console.log(
  `${'median'.padEnd(26)}${medians.map((m) => `${median(m.wall).toFixed(1).padStart(21)} ${median(m.cpu).toFixed(1).padStart(5)}`).join('')}`,
);
console.log(
  `\nhyperfine -N, bzip2.decompress clang alone: wall CV ${cv(hres.times).toFixed(1)}% ` +
    `(min ${Math.min(...hres.times).toFixed(3)} s, max ${Math.max(...hres.times).toFixed(3)} s, mean user ${hres.user.toFixed(3)} s)`,
);
