import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ExecutionResult } from '../core/runner.js';
import { UserError } from '../core/errors.js';
import { track } from '../exec/children.js';
import { envFileContent, helperArguments, resultFromHelper, type HelperFiles, type MeasureSpec } from '../exec/measure.js';
import { quote } from '../util/shell.js';

/**
 * What the remote backends (ssh, slurm, prun) share: the measurement helper's command line,
 * the meaning of its JSON result, job scripts, and running the local client programs
 * (ssh, sbatch, prun) as argv arrays.
 *
 * The helper's arguments and the classification of its result come from src/exec/measure.ts,
 * as for local executions, so a record does not depend on where the execution ran.
 */

/** An execution that produced no measurement (unreachable node, failed submission...). */
export function errorResult(spec: MeasureSpec, reason: string): ExecutionResult {
  return {
    status: 'error',
    exitCode: null,
    signal: null,
    measurement: null,
    stdoutPath: spec.stdoutPath,
    stderrPath: spec.stderrPath,
    cwd: spec.cwd,
    reason,
  };
}

/**
 * A POSIX shell script that runs the helper for `spec` on a cluster node: it records the
 * node's name in `hostFile`, enters the working directory and replaces itself by the helper,
 * which gives the benchmark exactly the environment in `files.env` (so the node's batch-system
 * variables do not reach it). No environment value is in the script or any command line.
 */
export function jobScript(spec: MeasureSpec, helper: string, files: HelperFiles, hostFile: string): string {
  const helperCommand = [quote(helper), ...helperArguments(spec, files).map(quote)];
  return [
    '#!/bin/sh',
    `hostname > ${quote(hostFile)} 2>/dev/null`,
    `cd -- ${quote(spec.cwd)} || { echo "working directory does not exist on $(hostname): "${quote(spec.cwd)} >&2; exit 98; }`,
    `exec ${helperCommand.join(' ')} </dev/null`,
    '',
  ].join('\n');
}

/** What a client program (ssh, sbatch, prun...) did. */
export interface ClientResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started (e.g. ENOENT). */
  spawnError?: NodeJS.ErrnoException;
}

/**
 * Runs a local client program and collects its output. It gets its own process group and is
 * tracked, so an interrupt stops it with everything else (`untracked`: except this one, e.g.
 * the scancel that an interrupt starts).
 */
export function runClient(
  argv: string[],
  options: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string; untracked?: boolean } = {},
): Promise<ClientResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    if (!options.untracked) track(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    if (options.input !== undefined) {
      // the program may exit without reading its input
      child.stdin!.on('error', () => {});
      child.stdin!.end(options.input);
    }
    let spawnError: NodeJS.ErrnoException | undefined;
    child.once('error', (e) => (spawnError = e));
    child.once('close', (code, signal) =>
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ...(spawnError ? { spawnError } : {}),
      }),
    );
  });
}

/** The last non-empty lines of a program's output, on one line (for a record's reason). */
export function tail(text: string, lines = 3): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(' / ');
}

/**
 * Splits an option string such as `--partition=fast -t 30:00 --comment "two words"` into
 * words the way a shell would (single and double quotes, backslash escapes); nothing is
 * expanded. An unterminated quote is a UserError naming the option.
 */
export function splitWords(text: string, option: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quoteChar: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoteChar === "'") {
      if (c === "'") quoteChar = null;
      else word += c;
    } else if (quoteChar === '"') {
      if (c === '"') quoteChar = null;
      else if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) word += text[++i]!;
      else word += c;
    } else if (c === "'" || c === '"') {
      quoteChar = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i]!;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quoteChar) throw new UserError(`${option}: unterminated ${quoteChar} quote in '${text}'`);
  if (inWord) words.push(word);
  return words;
}

/** `H:MM:SS` for a number of seconds (rounded up), as Slurm's --time and prun's -t take it. */
export function clockTime(seconds: number): string {
  const s = Math.ceil(seconds);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/**
 * The files of one batch job (slurm, prun) in a directory that the cluster's nodes share
 * with this machine: the job script, the helper's result, the node's name and the job's own
 * output (what the batch system and the script print, for error messages).
 */
export interface JobFiles {
  dir: string;
  script: string;
  result: string;
  host: string;
  output: string;
}

/** Writes the job script that measures `spec` with `helper`, in a new directory under `root`. */
export function prepareJob(root: string, id: number, spec: MeasureSpec, helper: string): JobFiles {
  const dir = join(root, String(id));
  mkdirSync(dir, { recursive: true });
  mkdirSync(dirname(spec.stdoutPath), { recursive: true });
  mkdirSync(dirname(spec.stderrPath), { recursive: true });
  const job: JobFiles = {
    dir,
    script: join(dir, 'job.sh'),
    result: join(dir, 'result.json'),
    host: join(dir, 'host'),
    output: join(dir, 'job.out'),
  };
  const env = join(dir, 'env');
  // the benchmark's environment: readable by the owner only, removed by the helper once read
  writeFileSync(env, envFileContent(spec.env), { mode: 0o600 });
  const script = jobScript(spec, helper, { stdout: spec.stdoutPath, stderr: spec.stderrPath, result: job.result, env }, job.host);
  writeFileSync(job.script, script, { mode: 0o700 });
  return job;
}

/**
 * Reads what a finished job left: the classified result and the node it ran on, or, without
 * a result, an error whose reason is `failure` plus the end of the job's output. Removes the
 * job's directory.
 */
export function collectJob(job: JobFiles, spec: MeasureSpec, failure: string, extraOutput = ''): { result: ExecutionResult; host: string } {
  const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
  const host = read(job.host).trim() || 'unknown';
  const result = resultFromHelper(read(job.result), spec);
  const output = tail(`${read(job.output)}\n${extraOutput}`, 3);
  rmSync(job.dir, { recursive: true, force: true });
  return { result: result ?? errorResult(spec, output ? `${failure}: ${output}` : failure), host };
}
