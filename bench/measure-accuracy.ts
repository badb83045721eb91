/**
 * How well the measurement helper agrees with standard tools, and what it costs per execution:
 * started once per execution (as remote backends do) and served (a long-lived helper per slot,
 * as local runs do).
 *
 *   node --import tsx bench/measure-accuracy.ts
 *
 * Prints figures side by side; asserts nothing (timings vary from machine to machine).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureMeasureHelper, executeMeasured, type MeasureSpec } from '../src/exec/measure.js';
import { MeasureService } from '../src/exec/measure-service.js';
import { JobPool } from '../src/parallel/pool.js';

const dir = mkdtempSync(join(tmpdir(), 'infra-bench-measure-'));
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

function compile(name: string, source: string): string {
  writeFileSync(join(dir, `${name}.c`), source);
  execFileSync('cc', ['-O2', '-o', join(dir, name), join(dir, `${name}.c`)]);
  return join(dir, name);
}

const alloc = compile(
  'alloc',
  `#include <stdlib.h>
#include <string.h>
int main(void) { size_t n = 100u << 20; volatile char *p = malloc(n); memset((char *)p, 1, n); return p[n / 2] - 1; }`,
);
const spin = compile(
  'spin',
  `#include <stdlib.h>
int main(int argc, char **argv) {
  unsigned long n = strtoul(argv[1], 0, 10);
  volatile unsigned long x = 1; /* volatile: the loop must not be folded away */
  for (unsigned long i = 0; i < n; i++) x = x * 6364136223846793005ul + 1442695040888963407ul;
  return 0;
}`,
);

let counter = 0;
function spec(argv: string[]): MeasureSpec {
  const n = counter++;
  return { argv, cwd: dir, env, stdoutPath: join(dir, 'out', `${n}.out`), stderrPath: join(dir, 'out', `${n}.err`), execution: {} };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const cv = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1)) / m;
};
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const ms = (s: number) => `${(s * 1000).toFixed(2)} ms`;

function timeV(argv: string[]): { maxrss: number; wall: number } {
  const out = execFileSync('sh', ['-c', '/usr/bin/time -v "$@" 2>&1 >/dev/null', 'sh', ...argv], { encoding: 'utf8' });
  const maxrss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(out)![1]);
  const [, h, m, s] = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(out)!;
  return { maxrss, wall: Number(h ?? 0) * 3600 + Number(m) * 60 + Number(s) };
}

function hyperfine(argv: string[], runs: number, warmup = 3): { mean: number; median: number; stddev: number } {
  const json = join(dir, `hf-${counter++}.json`);
  execFileSync('hyperfine', ['-N', '--runs', String(runs), '--warmup', String(warmup), '--export-json', json, argv.join(' ')], {
    stdio: 'ignore',
  });
  const r = JSON.parse(readFileSync(json, 'utf8')).results[0];
  return { mean: r.mean, median: r.median, stddev: r.stddev };
}

async function spawnDirect(argv: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    c.once('error', reject);
    c.once('close', () => resolve());
  });
}

const helper = await ensureMeasureHelper(join(dir, 'build'));
const service = new MeasureService(helper);
const served = (s: MeasureSpec) => service.execute(s);
// what `infra run` does: the execution is handed to its helper, held, while the one before
// runs, and starts when that one is released
const slot = new MeasureService(helper, 1);
const held = async (s: MeasureSpec) => {
  const before = slot.execute(spec(['/bin/true']));
  const r = slot.execute(s);
  (await before).release();
  const result = await r;
  result.release();
  return result;
};
console.log(`measurement helper: ${helper}\n`);

// --- peak memory ------------------------------------------------------------------------
const oursRss: number[] = [];
const servedRss: number[] = [];
const heldRss: number[] = [];
const cgroupPeak: number[] = [];
const timeRss: number[] = [];
for (let i = 0; i < 5; i++) {
  const r = await executeMeasured(spec([alloc]), helper);
  const v = await served(spec([alloc]));
  if (r.status !== 'ok' || v.status !== 'ok') throw new Error(`allocator: ${r.reason ?? v.reason}`);
  oursRss.push(r.measurement!.maxrss);
  servedRss.push(v.measurement!.maxrss);
  heldRss.push((await held(spec([alloc]))).measurement!.maxrss);
  if (r.measurement!.cgroupPeak !== undefined) cgroupPeak.push(r.measurement!.cgroupPeak);
  timeRss.push(timeV([alloc]).maxrss);
}
console.log('peak RSS of a program touching 100 MiB (median of 5, KiB)');
console.log(`  infra maxrss        ${median(oursRss)}`);
console.log(`  served helper       ${median(servedRss)}`);
console.log(`  held (infra run)    ${median(heldRss)}`);
console.log(`  /usr/bin/time -v    ${median(timeRss)}`);
console.log(
  `  difference          ${pct(median(oursRss) / median(timeRss) - 1)}, served ${pct(median(servedRss) / median(timeRss) - 1)}, ` +
    `held ${pct(median(heldRss) / median(timeRss) - 1)}`,
);
if (cgroupPeak.length) console.log(`  cgroup peak         ${median(cgroupPeak)} (includes page cache and kernel memory)`);

// --- wall time ----------------------------------------------------------------------------
// calibrate the CPU-bound program to about 1.5 s
const probe = 200_000_000;
const probes: number[] = [];
for (let i = 0; i < 3; i++) probes.push((await executeMeasured(spec([spin, String(probe)]), helper)).measurement!.runtime);
const probeTime = median(probes);
const loops = String(Math.round((probe * 1.5) / probeTime));
const walls: number[] = [];
const servedWalls: number[] = [];
const heldWalls: number[] = [];
const paired: number[] = [];
// interleaved with single hyperfine runs, so drift in machine load affects both sides alike
for (let i = 0; i < 10; i++) {
  const ours = (await executeMeasured(spec([spin, loops]), helper)).measurement!.runtime;
  walls.push(ours);
  paired.push(ours / hyperfine([spin, loops], 1, 0).median - 1);
  servedWalls.push((await served(spec([spin, loops]))).measurement!.runtime);
  heldWalls.push((await held(spec([spin, loops]))).measurement!.runtime);
}
const hf = hyperfine([spin, loops], 10);
const tv = timeV([spin, loops]);
console.log(`\nwall time of a CPU-bound program (10 runs, ${loops} iterations)`);
console.log(`  infra       median ${median(walls).toFixed(4)} s   CV ${pct(cv(walls))}`);
console.log(`  served      median ${median(servedWalls).toFixed(4)} s   CV ${pct(cv(servedWalls))}`);
console.log(`  held        median ${median(heldWalls).toFixed(4)} s   CV ${pct(cv(heldWalls))}   (as infra run measures)`);
console.log(`  hyperfine   median ${hf.median.toFixed(4)} s   CV ${pct(hf.stddev / hf.mean)}   (--runs 10, after ours)`);
console.log(
  `  difference of the medians          ${pct(median(walls) / hf.median - 1)}, served ${pct(median(servedWalls) / hf.median - 1)}, ` +
    `held ${pct(median(heldWalls) / hf.median - 1)}`,
);
console.log(`  median difference, interleaved     ${pct(median(paired))} (10 pairs of single runs)`);
console.log(`  one /usr/bin/time -v run           ${tv.wall.toFixed(2)} s`);

// --- per-execution overhead ---------------------------------------------------------------
const N = 500;
const pool = new JobPool(2);
const t0 = performance.now();
for (let i = 0; i < N; i++) pool.add(`true.${i}`, () => executeMeasured(spec(['/bin/true']), helper));
await pool.drain();
const parallelPer = (performance.now() - t0) / 1000 / N;
const t2 = performance.now();
for (let i = 0; i < N; i++) pool.add(`served.${i}`, () => served(spec(['/bin/true'])));
await pool.drain();
const servedParallelPer = (performance.now() - t2) / 1000 / N;

const SEQ = 200;
const reported: number[] = [];
let t1 = performance.now();
for (let i = 0; i < SEQ; i++) reported.push((await executeMeasured(spec(['/bin/true']), helper)).measurement!.runtime);
const measuredSeq = (performance.now() - t1) / 1000 / SEQ;
const servedReported: number[] = [];
t1 = performance.now();
for (let i = 0; i < SEQ; i++) servedReported.push((await served(spec(['/bin/true']))).measurement!.runtime);
const servedSeq = (performance.now() - t1) / 1000 / SEQ;
t1 = performance.now();
for (let i = 0; i < SEQ; i++) await executeMeasured({ ...spec(['/bin/true']), noCgroup: true }, helper);
const measuredNoCg = (performance.now() - t1) / 1000 / SEQ;
t1 = performance.now();
for (let i = 0; i < SEQ; i++) await spawnDirect(['/bin/true']);
const directSeq = (performance.now() - t1) / 1000 / SEQ;
const hfTrue = hyperfine(['/bin/true'], 200);
// the helper on its own, started by hyperfine: where its share of the cost goes
const helperArgs = [helper, '--stdout', '/dev/null', '--stderr', '/dev/null', '--result', '-'];
const hfHelperNoCg = hyperfine([...helperArgs, '--no-cgroup', '--', '/bin/true'], 200);
const hfHelper = hyperfine([...helperArgs, '--', '/bin/true'], 200);
console.log('\nper-execution cost of /bin/true');
console.log(`  infra, ${N} runs, 2 in parallel     ${ms(parallelPer)} per execution (throughput)`);
console.log(`  infra, ${SEQ} runs one at a time     ${ms(measuredSeq)} per execution (latency)`);
console.log(`  same without a cgroup              ${ms(measuredNoCg)}`);
console.log(`  served helper, ${N} runs, 2 at once ${ms(servedParallelPer)} per execution (throughput)`);
console.log(`  served helper, ${SEQ} one at a time  ${ms(servedSeq)} per execution (latency)`);
console.log(`  node spawn, ${SEQ} runs one at a time ${ms(directSeq)}`);
console.log(`  hyperfine -N mean                  ${ms(hfTrue.mean)}`);
console.log(`  overhead over spawning directly    ${ms(measuredSeq - directSeq)}`);
console.log(`  helper alone (hyperfine -N mean)   ${ms(hfHelper.mean)}, without a cgroup ${ms(hfHelperNoCg.mean)}`);
console.log(
  `  runtime reported for /bin/true     median ${ms(median(reported))}, mean ${ms(mean(reported))} (hyperfine: ${ms(hfTrue.median)}, ${ms(hfTrue.mean)})`,
);
console.log(`  same, served helper                median ${ms(median(servedReported))}, mean ${ms(mean(servedReported))}`);
await service.close();
await slot.close();

rmSync(dir, { recursive: true, force: true });
