// nginx on one machine against nginx on "two machines" (network namespaces pinned to separate
// cores), and what the orchestration itself costs the server's machine.
//   node --import tsx bench/webserver-hosts.ts [ROUNDS]      (as root)
// Builds nginx with gcc in a temporary project, then runs interleaved rounds of:
//   A. loopback: `infra run nginx gcc -t bench`, wrk and nginx on the same cores;
//   B. two hosts: `--parallel ssh --ssh-nodes CLIENT SERVER`, the client's namespace pinned to
//      CPU 0 and the server's to CPU 1 (taskset on each namespace's sshd);
//   C. as B without sampling (`--collect-stats none`): B's throughput beside C's shows whether the
//      sampler takes anything from the server.
// Prints medians side by side: requests/s, the server's CPU use and utilisation, the busy share
// of the server machine's cores, and the sampler's own CPU. Asserts nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { labUnavailable, makeLab } from '../test/netns.ts';

const repo = resolve(import.meta.dirname, '..');
const infra = join(repo, 'bin', 'infra.js');
const rounds = Number(process.argv[2] ?? 3);
const why = labUnavailable();
if (why) {
  console.error(`bench/webserver-hosts.ts: ${why}`);
  process.exit(1);
}
const mirror = process.env.INFRA_SOURCE_MIRROR ?? join(repo, '.cache', 'sources');
const dir = mkdtempSync(join(tmpdir(), 'infra-bench-web-'));
writeFileSync(
  join(dir, 'setup.ts'),
  `import { Setup, Gcc, Nginx } from 'instrumentation-infra';
const setup = new Setup(import.meta.url);
setup.addTarget(new Nginx());
setup.addInstance(new Gcc());
await setup.main();
`,
);

function infraRun(args: string[]): void {
  const r = spawnSync(process.execPath, [infra, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== 0) throw new Error(`infra ${args.join(' ')} failed:\n${r.stderr}`);
}

const LOAD = ['--duration', '5', '--connections', '32', '--threads', '1', '--workers', '1', '--port', '20431'];
type Fields = Record<string, number>;
const results: Record<'A' | 'B' | 'C', Fields[]> = { A: [], B: [], C: [] };

function lastRecord(): Fields {
  const lines = readFileSync(join(dir, 'results', 'last', 'records.jsonl'), 'utf8')
    .trim()
    .split('\n');
  const rec = JSON.parse(lines[lines.length - 1]!);
  if (rec.status !== 'ok') throw new Error(`load failed: ${rec.reason}`);
  return rec.fields;
}

const lab = await (async () => {
  console.error('building nginx with gcc...');
  infraRun(['build', 'nginx', 'gcc', '--source-mirror', mirror]);
  return makeLab({ cpus: { client: '0', server: '1' } });
})();
try {
  const two = ['--parallel', 'ssh', '--ssh-nodes', lab.client.node, lab.server.node, '--server-ip', lab.server.address];
  const stats = ['--collect-stats', 'cpu', 'rss', '--collect-stats-interval', '1'];
  for (let i = 0; i < rounds; i++) {
    // rotate the order, so slow phases of the shared machine do not always hit the same setup
    const order = (['A', 'B', 'C'] as const).map((_, k, all) => all[(k + i) % all.length]!);
    for (const setup of order) {
      console.error(`round ${i + 1}/${rounds}: ${setup}`);
      if (setup === 'A') infraRun(['run', 'nginx', 'gcc', '-t', 'bench', ...LOAD, ...stats]);
      if (setup === 'B') infraRun(['run', 'nginx', 'gcc', '-t', 'bench', ...LOAD, ...stats, ...two]);
      if (setup === 'C') infraRun(['run', 'nginx', 'gcc', '-t', 'bench', ...LOAD, '--collect-stats', 'none', ...two]);
      results[setup].push(lastRecord());
    }
  }
} finally {
  lab.teardown();
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const cell = (setup: 'A' | 'B' | 'C', field: string, digits = 0) => {
  const m = median(results[setup].map((f) => f[field]!));
  return Number.isNaN(m) ? '-' : m.toFixed(digits);
};
const rows: Array<[string, string, number]> = [
  ['requests/s (wrk)', 'throughput', 0],
  ['p99 latency, ms', 'latencyP99', 2],
  ['server CPU, % of one core', 'serverCpu', 1],
  ['server utilisation (1 = saturated)', 'serverUtilization', 2],
  ["busy share of the server machine's cores", 'serverHostUtilization', 2],
  ['sampler CPU, % of one core', 'samplerCpu', 1],
];
console.log(`nginx (gcc -O2), 1 worker; wrk 1 thread, 32 connections, 5 s per load; medians of ${rounds} interleaved rounds`);
console.log('Figures taken under load: the 2 cores of this machine are shared with other work, so absolute');
console.log('numbers are low and noisy; compare the columns of one run.');
console.log('');
const head = ['', 'loopback, shared cores', 'two hosts, pinned 0|1', 'two hosts, no sampler'];
const table = [head, ...rows.map(([label, field, d]) => [label, cell('A', field, d), cell('B', field, d), cell('C', field, d)])];
const widths = head.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
for (const r of table) console.log(r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('   '));
