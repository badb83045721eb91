// The quick start, timed: runs `bash scripts/quickstart.sh [ARGS]` as a user would and prints
// its wall time, the CPU time of everything it ran, how much of that infra's own processes
// used, the machine's load, and per benchmark and instance the coefficient of variation of
// wall time (`runtime`) beside that of CPU time (`cputime`, user + system) of the same
// executions.
//   node --import tsx bench/quickstart.ts [--full] [ITERATIONS]
// Prints figures; asserts nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, cv as fraction } from '../src/report/stats.ts';

const cv = (xs: number[]) => 100 * fraction(xs);

const repo = resolve(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'infra-bench-quickstart-'));
const timeFile = join(scratch, 'time');
const cpuLog = join(scratch, 'infra-cpu.jsonl');
// loaded into every node process the script starts; infra's own ones log their CPU time on exit
const hook = join(scratch, 'hook.mjs');
writeFileSync(
  hook,
  `import { appendFileSync } from 'node:fs';
if (/bin\\/infra(\\.js)?$/.test(process.argv[1] ?? '')) {
  process.on('exit', () => {
    const { user, system } = process.cpuUsage();
    appendFileSync(${JSON.stringify(cpuLog)}, JSON.stringify({ command: process.argv[2], user: user / 1e6, system: system / 1e6 }) + '\\n');
  });
}
`,
);

/** Busy, idle and stolen jiffies of the whole machine, from /proc/stat. */
function cpuStat(): { busy: number; idle: number; steal: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
}

const load0 = loadavg();
const stat0 = cpuStat();
const started = performance.now();
let output = '';
const code = await new Promise<number>((done) => {
  const child = spawn(
    '/usr/bin/time',
    ['-f', '%e %U %S', '-o', timeFile, 'bash', join(repo, 'scripts/quickstart.sh'), ...process.argv.slice(2)],
    {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'inherit'],
      // the table as in a terminal when this runs in one (the script's output passes through a pipe)
      env: {
        ...process.env,
        ...(process.stdout.isTTY ? { FORCE_COLOR: '1' } : {}),
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${pathToFileURL(hook).href}`.trim(),
      },
    },
  );
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    process.stdout.write(chunk);
  });
  child.on('close', (c) => done(c ?? 1));
});
const wall = (performance.now() - started) / 1000;
const load1 = loadavg();
const stat1 = cpuStat();
const [, user, system] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
const infraRuns = readFileSync(cpuLog, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { command: string; user: number; system: number });
const infraCpu = infraRuns.reduce((s, r) => s + r.user + r.system, 0);
const byCommand = new Map<string, number>();
for (const r of infraRuns) byCommand.set(r.command, (byCommand.get(r.command) ?? 0) + r.user + r.system);

const min = (s: number) => `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
const busyShare = (stat1.busy - stat0.busy) / (stat1.busy - stat0.busy + stat1.idle - stat0.idle);
console.log('\n== bench/quickstart.ts');
console.log(`exit status ${code}`);
console.log(`wall time ${min(wall)} (${wall.toFixed(1)} s); ${/^quick start: .*$/m.exec(output)?.[0] ?? '(no phase line)'}`);
console.log(
  `CPU time of everything it ran: ${(user + system).toFixed(1)} s (user ${user.toFixed(1)} s, system ${system.toFixed(1)} s), ${((user + system) / wall).toFixed(2)} cores on average`,
);
console.log(
  `infra's own processes: ${infraCpu.toFixed(1)} s CPU, ${((100 * infraCpu) / (user + system)).toFixed(1)}% of the total (` +
    [...byCommand].map(([c, s]) => `${c} ${s.toFixed(1)} s`).join(', ') +
    ')',
);
console.log(
  `machine load: load average ${load0[0]!.toFixed(1)} before, ${load1[0]!.toFixed(1)} after (1 min), ` +
    `${(100 * busyShare).toFixed(0)}% of both cores busy during the run, ${(stat1.steal - stat0.steal) / 100} s stolen by the hypervisor`,
);
if (load0[0]! > 1.5 || load1[0]! > 1.5)
  console.log('note: taken under load (other work on the machine); wall times and their variation are inflated');

// per benchmark and instance: wall time against CPU time of the same executions
const results = join(repo, 'examples/quickstart/results/last/records.jsonl');
interface Rec {
  benchmark: string;
  instance: string;
  status: string;
  fields: Record<string, number>;
}
const recs = readFileSync(results, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Rec)
  .filter((r) => r.status === 'ok');
const groups = new Map<string, Rec[]>();
for (const r of recs) {
  const key = `${r.benchmark}\u0000${r.instance}`;
  groups.set(key, [...(groups.get(key) ?? []), r]);
}
console.log('\nper benchmark (medians in s; CV = coefficient of variation, population stdev / mean):');
console.log(
  `${'benchmark'.padEnd(18)} ${'instance'.padEnd(8)}  n  ${'wall'.padStart(7)} ${'CV wall'.padStart(8)}  ${'cpu'.padStart(7)} ${'CV cpu'.padStart(7)}`,
);
const cvs = { wall: [] as number[], cpu: [] as number[] };
let quieter = 0;
for (const [key, rs] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
  const [benchmark, instance] = key.split('\u0000') as [string, string];
  const wallTimes = rs.map((r) => r.fields.runtime!);
  const cpuTimes = rs.map((r) => r.fields.utime! + r.fields.stime!);
  const [cw, cc] = [cv(wallTimes), cv(cpuTimes)];
  cvs.wall.push(cw);
  cvs.cpu.push(cc);
  if (cc < cw) quieter++;
  console.log(
    `${benchmark.padEnd(18)} ${instance.padEnd(8)} ${String(rs.length).padStart(2)}  ${median(wallTimes).toFixed(3).padStart(7)} ${cw.toFixed(1).padStart(7)}%  ${median(cpuTimes).toFixed(3).padStart(7)} ${cc.toFixed(1).padStart(6)}%`,
  );
}
console.log(
  `median CV: wall ${median(cvs.wall).toFixed(1)}%, cpu ${median(cvs.cpu).toFixed(1)}%; CPU time varies less in ${quieter} of ${groups.size} groups`,
);
const shortest = Math.min(
  ...[...groups.values()].filter((rs) => rs[0]!.instance === 'clang').map((rs) => median(rs.map((r) => r.fields.utime! + r.fields.stime!))),
);
console.log(`shortest baseline workload: ${shortest.toFixed(3)} s of CPU time (median)`);
