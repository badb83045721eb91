import { spawn } from 'node:child_process';
import { UserError } from '../core/errors.js';
import { track } from '../exec/children.js';

/**
 * What the remote backends (ssh, slurm, prun) share: error results, option strings, time
 * limits, and running the local client programs
 * (ssh, sbatch, prun) as argv arrays.
 *
 * The helper's arguments and the classification of its result come from src/exec/measure.ts,
 * as for local executions, so a record does not depend on where the execution ran.
 */

/** An execution that produced no measurement (unreachable node, failed submission...). */
export { unmeasured as errorResult } from '../exec/measure.js';

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
