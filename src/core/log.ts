import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pc from 'picocolors';

/** How important a message is; a logger shows those at or above its threshold. */
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40 };

/**
 * Progress and diagnostics go to stderr (coloured where colour is wanted: NO_COLOR, FORCE_COLOR, a terminal);
 * every message, whatever the verbosity, also goes to the invocation's debug log file.
 */
export class Logger {
  private readonly colors: ReturnType<typeof pc.createColors>;
  constructor(
    public threshold: LogLevel = 'info',
    public debugLogFile?: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.colors = pc.createColors(useColor(stream));
  }

  /** Details for finding a problem: shown with `-v`, always in the debug log. */
  debug(msg: string): void {
    this.emit('debug', msg);
  }
  /** What is being done (hidden with `-q`). */
  info(msg: string): void {
    this.emit('info', msg);
  }
  /** Something the user should know that does not stop the command. */
  warning(msg: string): void {
    this.emit('warning', msg);
  }
  /** Something that failed. */
  error(msg: string): void {
    this.emit('error', msg);
  }

  /** Writes to the debug log only. */
  file(msg: string): void {
    if (!this.debugLogFile) return;
    try {
      appendFileSync(this.debugLogFile, msg.endsWith('\n') ? msg : msg + '\n');
    } catch {
      // the debug log is best effort; the build directory may be gone after `clean`
    }
  }

  /** Also writes every message, debug ones included, to this file. */
  setDebugLogFile(path: string): void {
    mkdirSync(dirname(path), { recursive: true });
    this.debugLogFile = path;
  }

  private emit(level: LogLevel, msg: string): void {
    this.file(`${new Date().toISOString()} ${level.toUpperCase()} ${msg}`);
    if (ORDER[level] < ORDER[this.threshold]) return;
    const c = this.colors;
    const tag =
      level === 'error'
        ? c.red(c.bold('error'))
        : level === 'warning'
          ? c.yellow('warning')
          : level === 'debug'
            ? c.dim('debug')
            : c.blue('infra');
    this.stream.write(`${tag}: ${msg}\n`);
  }
}

export function levelFromVerbosity(v: number): LogLevel {
  return v >= 1 ? 'debug' : v <= -1 ? 'warning' : 'info';
}

/**
 * Whether a stream is a terminal. `isTTY` is typed boolean, but a stream that is no terminal
 * (a pipe, a file, a test's fake) has it undefined.
 */
export function isTerminal(stream: { isTTY?: boolean | undefined }): boolean {
  return stream.isTTY === true;
}

/**
 * Whether to colour what goes to a stream: FORCE_COLOR set (empty or a level, not 0 or false)
 * forces colour and FORCE_COLOR=0 forbids it; otherwise a non-empty NO_COLOR forbids it
 * (https://no-color.org: an empty one does not), and else a terminal other than TERM=dumb gets it.
 */
export function useColor(stream: { isTTY?: boolean | undefined }, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (env.NO_COLOR) return false;
  return isTerminal(stream) && env.TERM !== 'dumb';
}
