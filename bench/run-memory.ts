// Many executions in one run: infra's peak memory, the per-execution overhead at the start and at
// the end, and what the progress display costs.
//   node --import tsx bench/run-memory.ts [--count N] [--progress-count M]
// 1. One `infra run` of N (default 100,000) executions of /bin/true: infra's own peak RSS (its
//    process alone), and the time from one execution's start to the next over the first and the
//    last 1,000 executions (from the records' start times). Target: under 150 MB; end as start.
// 2. M (default 3,000) executions with the output going to a file (one plain line per
//    execution) and in a pseudo-terminal (the live status block with its bar and ETA),
//    alternating, twice each: ms per execution side by side. Target: no measurable difference.
// Takes minutes (about 3-10 ms per execution on a busy 2-core machine). Prints figures; asserts nothing.
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { median, perExecution, TrivialProject } from './lib/trivial-project.ts';

const { values: opts } = parseArgs({
  options: { count: { type: 'string', default: '100000' }, 'progress-count': { type: 'string', default: '3000' } },
});
const count = Number(opts.count);
const progressCount = Number(opts['progress-count']);
const cli = join(resolve(import.meta.dirname, '..'), 'bin', 'infra.js');
const project = new TrivialProject();
project.run(cli, ['-i', '1']); // the setup cache and the measurement helper

const window = Math.min(1000, Math.floor(count / 2));
const big = project.run(cli, ['-i', String(count)]);
const first = perExecution(big.records, 0, window);
const last = perExecution(big.records, big.records.length - window);
console.log(`\n1. ${big.records.length} executions of /bin/true in one run (load average ${loadavg()[0]!.toFixed(1)}: taken under load)`);
console.log(`   wall ${(big.wallMs / 1000).toFixed(1)} s, ${(big.wallMs / count).toFixed(2)} ms per execution with the start-up`);
console.log(`   infra's peak RSS: ${(big.maxRssKiB / 1024).toFixed(1)} MB (target: under 150 MB)`);
console.log(`   infra's own CPU: ${(big.ownCpuMs / count).toFixed(3)} ms per execution`);
console.log(
  `   ms from one execution's start to the next: first ${window} ${first.toFixed(2)}, last ${window} ${last.toFixed(2)} ` +
    `(ratio ${(last / first).toFixed(2)}; target: about 1)`,
);

const plain: number[] = [];
const tty: number[] = [];
for (let i = 0; i < 2; i++) {
  for (const live of i % 2 ? [true, false] : [false, true]) {
    const r = project.run(cli, ['-i', String(progressCount)], { tty: live });
    (live ? tty : plain).push(perExecution(r.records));
  }
}
console.log(`\n2. ${progressCount} executions, 2 runs each, alternating (medians)`);
console.log(`   output to a file (a line per execution):  ${median(plain).toFixed(3)} ms per execution`);
console.log(`   on a terminal (live status block, ETA):   ${median(tty).toFixed(3)} ms per execution`);
console.log(`   difference: ${(median(tty) - median(plain)).toFixed(3)} ms (target: within the noise, about 0.1 ms here)`);
