import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, hostname, release, totalmem } from 'node:os';
import type { RunMeta } from './schema.js';

function readTrimmed(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Runs a program and returns its stdout, or null if it fails or does not exist. */
function output(cmd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 10_000, maxBuffer: 16 << 20 }, (err, stdout) => resolve(err ? null : stdout));
  });
}

/** "always [madvise] never" -> "madvise" */
export function bracketedChoice(text: string | null): string | null {
  if (text === null) return null;
  return /\[([^\]]+)\]/.exec(text)?.[1] ?? text;
}

function cpuModel(): string {
  const info = readTrimmed('/proc/cpuinfo');
  const line = info?.split('\n').find((l) => /^(model name|Processor|cpu model)\s*:/.test(l));
  return line?.split(':').slice(1).join(':').trim() ?? cpus()[0]?.model ?? 'unknown';
}

async function kernel(): Promise<string> {
  return (await output('uname', ['-r']))?.trim() || release();
}

/** Facts about this machine that affect measurements (RunMeta.host). */
export async function hostInfo(): Promise<RunMeta['host']> {
  return {
    hostname: hostname(),
    cpuModel: cpuModel(),
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    kernel: await kernel(),
    thp: bracketedChoice(readTrimmed('/sys/kernel/mm/transparent_hugepage/enabled')),
    aslr: readTrimmed('/proc/sys/kernel/randomize_va_space'),
    governor: readTrimmed('/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor'),
  };
}

/** The project's git commit and whether the work tree has changes; nulls outside git. */
export async function projectState(root: string): Promise<RunMeta['project']> {
  const head = await output('git', ['-C', root, 'rev-parse', 'HEAD']);
  if (head === null) return { gitCommit: null, gitDirty: null };
  const status = await output('git', ['-C', root, 'status', '--porcelain']);
  return { gitCommit: head.trim(), gitDirty: status === null ? null : status.trim().length > 0 };
}

const versions = new Map<string, Promise<string | null>>();

/** First line of `<cc> --version` (cached per compiler command), or null if it cannot run. */
export function compilerVersion(cc: string): Promise<string | null> {
  let v = versions.get(cc);
  if (!v) {
    v = output(cc, ['--version']).then((out) => out?.split('\n')[0]?.trim() || null);
    versions.set(cc, v);
  }
  return v;
}
