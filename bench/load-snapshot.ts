// What recording the machine's load costs a run: the snapshot `infra run` takes at its start
// (beside reading the host and git state) and at its end (after the last execution).
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { loadSnapshot } from '../src/results/load.ts';

const processes = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
console.log(
  `machine: load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}, ${processes} processes (figures taken under that load)`,
);
const walls: number[] = [];
const cpus: number[] = [];
for (let i = 0; i < 10; i++) {
  const t = performance.now();
  const c = process.cpuUsage();
  await loadSnapshot();
  const used = process.cpuUsage(c);
  walls.push(performance.now() - t);
  cpus.push((used.user + used.system) / 1000);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log('                 wall ms   CPU ms');
console.log(
  `load snapshot   ${median(walls).toFixed(1).padStart(7)}  ${median(cpus).toFixed(1).padStart(7)}   (median of 10; 100 ms of it is the look at busy processes)`,
);
