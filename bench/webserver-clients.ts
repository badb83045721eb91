// nginx, lighttpd and Apache httpd (gcc -O2, one worker process) measured by wrk and by ab on
// loopback, side by side: median throughput, latency percentiles and server CPU of interleaved
// rounds (server × client in turn, so a change in the machine's load hits every pair alike).
//   node --import tsx bench/webserver-clients.ts [--rounds 3] [--duration 3] [--connections 32]
// The servers are built once into $INFRA_BENCH_DIR (default /tmp/infra-bench-webservers) and
// reused by later runs. Needs the offline mirror (INFRA_SOURCE_MIRROR) or network access, wrk,
// libpcre2-dev. Prints figures; asserts nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
  },
});
const repo = resolve(import.meta.dirname, '..');
const infra = join(repo, 'bin', 'infra.js');
const dir = process.env.INFRA_BENCH_DIR ?? '/tmp/infra-bench-webservers';
const mirror = process.env.INFRA_SOURCE_MIRROR ? ['--source-mirror', process.env.INFRA_SOURCE_MIRROR] : [];
const servers = ['nginx', 'lighttpd', 'apache'];
const clients = ['wrk', 'ab'];

mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, 'setup.ts'),
  `import { Setup, Gcc, Nginx, Lighttpd, ApacheHttpd, APR, APRUtil, ApacheBench } from 'instrumentation-infra';
const apr = new APR('1.7.2');
const aprUtil = new APRUtil('1.6.3', apr);
const ab = new ApacheBench('2.4.68', apr, aprUtil);
const setup = new Setup(import.meta.url);
setup.addTarget(new Nginx());
setup.addTarget(new Lighttpd({ uses: [ab] }));
setup.addTarget(new ApacheHttpd({ apr, aprUtil, uses: [ab] }));
setup.addInstance(new Gcc());
await setup.main();
`,
);

function infraRun(args: string[]): string {
  const r = spawnSync(process.execPath, [infra, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== 0) throw new Error(`infra ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stderr;
}

for (const server of servers) {
  const started = Date.now();
  infraRun(['build', server, 'gcc', '-j', '2', ...mirror]);
  process.stderr.write(`${server}: built or up to date (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
}
// nginx's target does not use the ab package: the same build on PATH serves all three
const abBin = join(dir, 'build/packages/ab-2.4.68/install/bin');
if (!existsSync(join(abBin, 'ab'))) throw new Error(`ab was not built in ${abBin}`);

type Row = { throughput: number; latencyP50: number; latencyP99: number; serverCpu: number };
const rows = new Map<string, Row[]>();
let port = 21300;
for (let round = 0; round < Number(values.rounds); round++) {
  for (const server of servers) {
    for (const client of clients) {
      const args = ['run', server, 'gcc', '--client', client, '--duration', values.duration!, '--connections', values.connections!];
      const r = spawnSync(process.execPath, [infra, ...args, '--workers', '1', '--threads', '1', '--port', String(port++)], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', PATH: `${abBin}:${process.env.PATH}` },
      });
      if (r.status !== 0) throw new Error(`infra ${args.join(' ')} failed:\n${r.stderr}`);
      const rec = JSON.parse(readFileSync(join(dir, 'results/last/records.jsonl'), 'utf8').trim().split('\n')[0]!);
      const key = `${server}/${client}`;
      rows.set(key, [...(rows.get(key) ?? []), rec.fields as Row]);
    }
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const cell = (key: string, f: keyof Row) => median(rows.get(key)!.map((r) => r[f]));
console.log(
  `${availableParallelism()} cores shared with other work (load average ${loadavg()[0]!.toFixed(1)}): figures taken under load; ` +
    `medians of ${values.rounds} interleaved rounds, ${values.duration} s loads, ${values.connections} connections, 1 server worker, 1 client thread\n`,
);
console.log('server    client  requests/s   p50 ms   p99 ms  server CPU %');
for (const server of servers) {
  for (const client of clients) {
    const key = `${server}/${client}`;
    console.log(
      `${server.padEnd(9)} ${client.padEnd(6)} ${cell(key, 'throughput').toFixed(0).padStart(11)} ${cell(key, 'latencyP50').toFixed(3).padStart(8)} ` +
        `${cell(key, 'latencyP99').toFixed(3).padStart(8)} ${cell(key, 'serverCpu').toFixed(0).padStart(13)}`,
    );
  }
}
