import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildEnv, type Context, type EnvValue } from '../core/context.js';
import { UserError } from '../core/errors.js';
import { qjoin } from '../util/shell.js';
import { track } from './children.js';
import { isInterrupted, throwIfInterrupted } from './interrupt.js';

export interface RunOptions {
  /** Working directory (never the process's own; there is no chdir). */
  cwd?: string;
  /** Added on top of the process environment and `ctx.runenv`. */
  env?: Record<string, EnvValue | undefined>;
  /** Return a non-zero exit status instead of throwing. */
  allowError?: boolean;
  /** Do not log the output to commands.txt (the invocation is still logged). */
  silent?: boolean;
  /** Stream the output to this process's stdout as well as capturing it. */
  teeout?: boolean;
  /** Text written to the command's standard input. */
  input?: string;
  /** A file opened as the command's standard input. */
  stdinFile?: string;
}

export interface RunResult {
  argv: string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Standard output (and, interleaved, standard error in `output`). */
  stdout: string;
  stderr: string;
  output: string;
}

const KEEP_BYTES = 8 << 20;

/**
 * Runs a command given as an argv array (never through a shell). The environment is the
 * process environment + `ctx.runenv` + `options.env`. The invocation, its cwd, the environment
 * delta and its output go to build/log/commands.txt. A non-zero exit throws a UserError naming
 * the command, the log and the last lines of output, unless `allowError` is set.
 * With `--dry-run` the command is printed and not run.
 */
export async function run(ctx: Context, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const cmd = argv.map(String);
  const cwd = options.cwd ?? ctx.paths.root;
  const delta = envDelta(ctx, options.env);
  const shown = describe(cmd, cwd, delta);
  if (ctx.dryRun) {
    process.stdout.write(`${shown}\n`);
    return { argv: cmd, exitCode: 0, signal: null, stdout: '', stderr: '', output: '' };
  }
  throwIfInterrupted();
  ctx.log.debug(`running: ${qjoin(cmd)}`);
  const stdinFd = options.stdinFile ? openSync(options.stdinFile, 'r') : undefined;
  const env = buildEnv(process.env, ctx.runenv, options.env);
  const stdio: SpawnOptions['stdio'] = [stdinFd ?? (options.input !== undefined ? 'pipe' : 'ignore'), 'pipe', 'pipe'];
  if (ctx.jobserver) {
    // a make in this command shares the job slots of the other parallel builds
    stdio.push(ctx.jobserver.fd, ctx.jobserver.fd);
    if (options.env?.MAKEFLAGS === undefined && ctx.runenv.MAKEFLAGS === undefined) env.MAKEFLAGS = ctx.jobserver.makeflags;
  }
  const spawnOptions: SpawnOptions = {
    cwd,
    env,
    stdio,
    detached: true, // own process group, so an interrupt can stop the whole tree
  };
  let child: ChildProcess;
  try {
    child = spawn(cmd[0]!, cmd.slice(1), spawnOptions);
  } finally {
    if (stdinFd !== undefined) closeSync(stdinFd);
  }
  track(child);
  // the end of a long output is what explains a failure: keep the last KEEP_BYTES of each
  const out = new TailBuffer(KEEP_BYTES);
  const err = new TailBuffer(KEEP_BYTES);
  const all = new TailBuffer(KEEP_BYTES);
  const collect = (sink: TailBuffer, chunk: Buffer) => {
    const s = chunk.toString();
    sink.push(s);
    all.push(s);
    if (options.teeout) process.stdout.write(s);
  };
  child.stdout!.on('data', (c: Buffer) => collect(out, c));
  child.stderr!.on('data', (c: Buffer) => collect(err, c));
  if (options.input !== undefined) {
    // a command may exit without reading its input; that is its business, not a crash of ours
    child.stdin!.on('error', () => {});
    child.stdin!.end(options.input);
  }
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' && !existsSync(cwd)) {
        reject(new UserError(`working directory does not exist: ${cwd} (while running: ${qjoin(cmd)})`));
      } else if (e.code === 'ENOENT') {
        reject(new UserError(`program not found: '${cmd[0]}' (while running: ${qjoin(cmd)}); install it or add it to PATH`));
      } else {
        reject(e);
      }
    });
    child.once('close', (c, s) => resolve({ code: c, signal: s }));
  });
  const result: RunResult = {
    argv: cmd,
    exitCode: code,
    signal,
    stdout: out.text(),
    stderr: err.text(),
    output: all.text(),
  };
  logCommand(ctx, shown, result, options.silent);
  // a command that died with the interrupt did not fail on its own
  if ((code !== 0 || signal) && isInterrupted()) throwIfInterrupted();
  if ((code !== 0 || signal) && !options.allowError) {
    const status = signal ? `killed by ${signal}` : `exit status ${code}`;
    const tail = result.output.trimEnd().split('\n').slice(-20).join('\n');
    throw new UserError(
      `command failed (${status}): ${qjoin(cmd)}\n  in: ${cwd}\n  full log: ${ctx.paths.runlog}` +
        (tail ? `\n  last lines of output:\n${indent(tail, '    ')}` : ''),
    );
  }
  return result;
}

/**
 * Starts a command without waiting for it (like `cmd &`); the caller owns the child.
 * Its output goes to `outfile` when given, otherwise it is discarded.
 */
export function runDeferred(ctx: Context, argv: readonly string[], options: RunOptions & { outfile?: string } = {}): ChildProcess {
  throwIfInterrupted();
  const cmd = argv.map(String);
  const cwd = options.cwd ?? ctx.paths.root;
  const shown = describe(cmd, cwd, envDelta(ctx, options.env));
  appendLog(ctx, `${shown} &\n`);
  let fd: number | 'ignore' = 'ignore';
  if (options.outfile) {
    mkdirSync(dirname(options.outfile), { recursive: true });
    fd = openSync(options.outfile, 'a');
  }
  const child = spawn(cmd[0]!, cmd.slice(1), {
    cwd,
    env: buildEnv(process.env, ctx.runenv, options.env),
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  if (typeof fd === 'number') closeSync(fd);
  track(child);
  return child;
}

function envDelta(ctx: Context, extra?: Record<string, EnvValue | undefined>): Record<string, string> {
  const layered = buildEnv({}, ctx.runenv, extra);
  const delta: Record<string, string> = {};
  for (const [k, v] of Object.entries(layered)) if (process.env[k] !== v) delta[k] = v;
  return delta;
}

function describe(cmd: string[], cwd: string, delta: Record<string, string>): string {
  // PATH-like variables show what was added in front of the inherited value
  const env = Object.entries(delta).map(([k, v]) => {
    const inherited = process.env[k];
    if (inherited && v.endsWith(':' + inherited)) return `${k}=${qjoin([v.slice(0, -inherited.length - 1)])}:$${k}`;
    return `${k}=${qjoin([v])}`;
  });
  return `cd ${qjoin([cwd])} && ${env.length ? env.join(' ') + ' ' : ''}${qjoin(cmd)}`;
}

function logCommand(ctx: Context, shown: string, r: RunResult, silent?: boolean): void {
  const status = r.signal ? `signal ${r.signal}` : `exit ${r.exitCode}`;
  const body = silent || !r.output ? '' : r.output.endsWith('\n') ? r.output : r.output + '\n';
  appendLog(ctx, `$ ${shown}\n${body}# ${status}\n\n`);
}

function appendLog(ctx: Context, text: string): void {
  try {
    mkdirSync(dirname(ctx.paths.runlog), { recursive: true });
    appendFileSync(ctx.paths.runlog, text);
  } catch {
    // logging must never turn a working command into a failure
  }
}

function indent(s: string, pad: string): string {
  return s
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

/** Keeps the last `limit` characters of a stream, noting how much was dropped before them. */
class TailBuffer {
  private chunks: string[] = [];
  private size = 0;
  private dropped = 0;
  constructor(private readonly limit: number) {}

  push(s: string): void {
    this.chunks.push(s);
    this.size += s.length;
    while (this.size > this.limit && this.chunks.length > 1) {
      const first = this.chunks.shift()!;
      this.size -= first.length;
      this.dropped += first.length;
    }
  }

  text(): string {
    const body = this.chunks.join('');
    return this.dropped ? `[... ${this.dropped} earlier characters not kept ...]\n${body}` : body;
  }
}
