import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { type Context, qjoin, runDeferred, UserError } from '../../api.js';

export interface ServerStart {
  /** Shown in messages, e.g. `nginx (gcc)`. */
  label: string;
  /** Runs the server in the foreground (no daemonizing). */
  argv: string[];
  cwd: string;
  /** Gets the server's standard output and error. */
  outfile: string;
  /** Further logs worth showing when the server fails (e.g. its error log). */
  logs?: string[];
  port: number;
  /** Seconds to wait for the port to accept connections (default 30). */
  startTimeout?: number;
  /** Address the server listens on (default 127.0.0.1), where readiness is checked. */
  address?: string;
  /** Signal that asks the server to stop (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
}

/** A started server, on this machine ({@link ServerProcess}) or on another one over SSH. */
export interface RunningServer {
  /** Process id on the server's machine (the leader of the server's process group). */
  readonly pid: number;
  readonly alive: boolean;
  readonly exited: ServerExit | null;
  /** Resolves when the server has exited. */
  wait(): Promise<ServerExit>;
  /** Asks the server to stop; kills it after `graceSeconds`. */
  stop(graceSeconds?: number): Promise<void>;
  /** The last lines of the server's output and logs, for error messages. */
  logTail(lines?: number): string;
}

/** How a server process ended. */
export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A server running in the background: started with `runDeferred` (so an interrupt stops it
 * with everything else), ready once its port accepts connections, stopped by {@link stop}.
 * It never keeps the framework's process alive, and it is killed when that process exits,
 * whatever path led there.
 */
export class ServerProcess implements RunningServer {
  exited: ServerExit | null = null;
  private readonly exitPromise: Promise<ServerExit>;
  private readonly killOnExit = () => this.signal('SIGKILL');

  private constructor(
    readonly options: ServerStart,
    private readonly child: ChildProcess,
  ) {
    this.exitPromise = new Promise((resolve) => {
      const done = (exit: ServerExit) => {
        this.exited ??= exit;
        process.off('exit', this.killOnExit);
        resolve(this.exited);
      };
      child.once('exit', (code, signal) => done({ code, signal }));
      child.once('error', () => done({ code: null, signal: null }));
    });
    child.unref();
    process.on('exit', this.killOnExit);
  }

  /** Starts the server and waits until its port accepts connections. */
  static async start(ctx: Context, options: ServerStart): Promise<ServerProcess> {
    const child = runDeferred(ctx, options.argv, { cwd: options.cwd, outfile: options.outfile });
    const server = new ServerProcess(options, child);
    const deadline = Date.now() + (options.startTimeout ?? 30) * 1000;
    while (!(await accepts(options.port, options.address))) {
      if (server.exited) {
        throw new UserError(
          `${options.label} exited (${describeExit(server.exited)}) before accepting connections on port ${options.port}\n` +
            `  command: ${qjoin(options.argv)}\n${server.logTail()}`,
        );
      }
      if (Date.now() > deadline) {
        await server.stop();
        throw new UserError(
          `${options.label} did not accept connections on port ${options.port} within ${options.startTimeout ?? 30} s\n${server.logTail()}`,
        );
      }
      await sleep(50);
    }
    if (server.exited) {
      // something else answers on the port and the server itself gave up
      throw new UserError(
        `${options.label} exited (${describeExit(server.exited)}); is port ${options.port} used by another program?\n${server.logTail()}`,
      );
    }
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.exited === null;
  }

  /** Resolves when the server has exited; the framework's process stays alive meanwhile. */
  async wait(): Promise<ServerExit> {
    this.child.ref();
    try {
      return await this.exitPromise;
    } finally {
      this.child.unref();
    }
  }

  /** Asks the server (its whole process group) to stop; kills it after `graceSeconds`. */
  async stop(graceSeconds = 5): Promise<void> {
    if (!this.alive) return;
    this.signal(this.options.stopSignal ?? 'SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceSeconds * 1000);
    await this.exitPromise;
    clearTimeout(timer);
  }

  /** The last lines of the server's output and logs, for error messages. */
  logTail(lines = 15): string {
    const parts: string[] = [];
    for (const file of [this.options.outfile, ...(this.options.logs ?? [])]) {
      if (!existsSync(file)) continue;
      const text = readFileSync(file, 'utf8').trimEnd();
      if (!text) continue;
      parts.push(
        `  last lines of ${file}:\n${text
          .split('\n')
          .slice(-lines)
          .map((l) => `    ${l}`)
          .join('\n')}`,
      );
    }
    return parts.length ? parts.join('\n') : '  (the server wrote no output)';
  }

  private signal(sig: NodeJS.Signals): void {
    if (!this.alive || this.child.pid === undefined) return;
    try {
      // the server leads its own process group (runDeferred detaches it): reach the workers too
      process.kill(-this.child.pid, sig);
    } catch {
      try {
        this.child.kill(sig);
      } catch {
        /* already gone */
      }
    }
  }
}

export function describeExit(e: ServerExit): string {
  return e.signal ? `killed by ${e.signal}` : e.code === null ? 'could not be started' : `exit status ${e.code}`;
}

/** Whether something accepts TCP connections on host:port (127.0.0.1 by default). */
export function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
