import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..');
export const INFRA = join(REPO, 'bin', 'infra.js');

const created: string[] = [];
// projects are removed when the test file's process ends (kept with INFRA_KEEP_TMP=1, to look at)
process.on('exit', () => {
  if (process.env.INFRA_KEEP_TMP) return;
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** A fresh project directory with the given files (paths relative to it). */
export function makeProject(files: Record<string, string>, prefix = 'infra-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  return dir;
}

export interface InfraResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `infra ARGS` in `cwd` and waits for it. */
export function runInfra(cwd: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): InfraResult {
  const r = spawnSync(process.execPath, [INFRA, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 300_000,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `infra ARGS` without waiting; resolves with its result when it exits. */
export function startInfra(cwd: string, args: string[], opts: { env?: Record<string, string> } = {}) {
  const child = spawn(process.execPath, [INFRA, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const done = new Promise<InfraResult>((res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return { child, done, output: () => stdout + stderr };
}

/** Waits until `pred()` holds, polling; throws after `ms`. */
export async function waitFor(pred: () => boolean, ms = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
