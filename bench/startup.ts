// Startup cost of the CLI on the example project, beside a bare `node` start, and the cost of
// a second `infra build` when nothing changed. Prints figures; asserts nothing.
//   node --import tsx bench/startup.ts
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const infra = join(repo, 'bin', 'infra.js');
const project = join(repo, 'examples', 'hello');
const node = process.execPath;
const runs = 30;

function hyperfine(commands: string[][], cwd: string): Array<{ command: string; median: number; mean: number; stddev: number }> {
  const out = join(mkdtempSync(join(tmpdir(), 'infra-bench-')), 'h.json');
  const args = ['-N', '--warmup', '3', '--runs', String(runs), '--export-json', out];
  for (const c of commands) args.push(c.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' '));
  execFileSync('hyperfine', args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  const data = JSON.parse(readFileSync(out, 'utf8'));
  rmSync(out, { force: true });
  return data.results.map((r: any) => ({ command: r.command, median: r.median, mean: r.mean, stddev: r.stddev }));
}

// warm the setup cache and the dependencies
spawnSync(node, [infra, 'build', 'hello', 'gcc'], { cwd: project, stdio: 'ignore' });

const results = hyperfine(
  [
    [node, '-e', '0'],
    [node, infra, 'config', '--targets'],
    [node, infra, 'build', 'hello', 'gcc'],
  ],
  project,
);
const base = results[0]!.median;
console.log(`\nStartup on examples/hello (hyperfine -N, ${runs} runs, medians):`);
console.log('command'.padEnd(44) + 'median'.padStart(10) + 'stddev'.padStart(10) + '  ratio to node -e 0');
for (const r of results) {
  const name = r.command.replace(node, 'node').replace(infra, 'bin/infra.js');
  console.log(
    name.padEnd(44) +
      `${(r.median * 1000).toFixed(1)} ms`.padStart(10) +
      `${(r.stddev * 1000).toFixed(1)} ms`.padStart(10) +
      `  ${(r.median / base).toFixed(2)}x`,
  );
}
console.log('\nTargets: config --targets at most 2x node -e 0; a no-op build about the startup time.');
