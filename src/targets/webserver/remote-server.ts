import { constants } from 'node:os';
import { quote, UserError } from '../../api.js';
import type { RunningServer, ServerExit, ServerStart } from './server.js';
import { describeExit } from './server.js';
import type { HostShell, ShellSession } from './shell.js';

/**
 * The server's side of a two-host benchmark, run by a shell on the server's machine: it
 * refuses a port already listening, starts the server in its own session (so its workers are
 * reached through the process group), waits until the port listens (read from
 * /proc/net/tcp*, not by connecting), says `ready PID HOSTNAME`, and stops the server when its
 * input closes: when we stop it, or when the SSH connection is lost for any reason. When the
 * server ends it says `exited STATUS` and shows the end of its logs (`| ` lines).
 *
 * Positional parameters: directory, port, output file, grace seconds, start timeout
 * seconds, stop signal, number of log files, the log files, then the server's command.
 */
const RUNNER = `
dir=$1 port=$2 out=$3 grace=$4 limit=$5 sig=$6 nlogs=$7
shift 7
logs=
while [ "$nlogs" -gt 0 ]; do logs="$logs $1"; shift; nlogs=$((nlogs - 1)); done
hex=$(printf '%04X' "$port")
listening() {
  for f in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$f" ] || continue
    while read -r _ a _ st _; do
      case "$a" in *:"$hex") [ "$st" = 0A ] && return 0 ;; esac
    done <"$f"
  done
  return 1
}
tails() {
  for f in "$out" $logs; do
    [ -s "$f" ] || continue
    echo "| last lines of $(hostname):$f:"
    tail -n 15 "$f" | sed 's/^/|     /'
  done
}
cd -- "$dir" 2>/dev/null || { echo "nodir $(hostname)"; exit 0; }
if listening; then echo "busy $(hostname)"; exit 0; fi
mkdir -p "$(dirname -- "$out")"
exec 3<&0
setsid "$@" </dev/null >>"$out" 2>&1 3<&- &
p=$!
# our input closes when we stop the server or lose the connection
{ cat >/dev/null; kill -"$sig" -$p 2>/dev/null || kill -"$sig" $p; sleep "$grace"; kill -KILL -$p 2>/dev/null; } <&3 >/dev/null 2>&1 &
exec 3<&-
n=0
until listening; do
  if ! kill -0 $p 2>/dev/null; then
    wait $p
    echo "exited $?"
    tails
    exit 0
  fi
  n=$((n + 1))
  if [ $n -gt $((limit * 20)) ]; then
    kill -KILL -$p 2>/dev/null
    wait $p
    echo "timeout"
    tails
    exit 0
  fi
  sleep 0.05
done
echo "ready $p $(hostname)"
wait $p
echo "exited $?"
tails
`;

/** A server started on another machine over SSH; see {@link RUNNER}. */
export class RemoteServer implements RunningServer {
  exited: ServerExit | null = null;
  private readonly exitPromise: Promise<ServerExit>;

  private constructor(
    private readonly session: ShellSession,
    readonly pid: number,
    /** The server machine's own host name. */
    readonly hostname: string,
  ) {
    this.exitPromise = session
      .waitForLine((l) => l.startsWith('exited ') || l === 'timeout')
      .then((line) => {
        this.exited ??= exitOf(line);
        return this.exited;
      });
  }

  /**
   * Starts the server on `shell`'s machine with `env` added to its environment and waits until
   * its port listens there. The command, directory and files are paths on that machine.
   */
  static async start(shell: HostShell, options: ServerStart, env: Record<string, string>): Promise<RemoteServer> {
    const exports = Object.entries(env)
      .map(([k, v]) => `export ${k}=${quote(v)}\n`)
      .join('');
    const logs = options.logs ?? [];
    const args = [
      options.cwd,
      String(options.port),
      options.outfile,
      '5',
      String(options.startTimeout ?? 30),
      (options.stopSignal ?? 'SIGTERM').replace(/^SIG/, ''),
      String(logs.length),
      ...logs,
      ...options.argv,
    ];
    const session = shell.session(exports + RUNNER, args);
    const first = await session.waitForLine((l) => /^(ready|exited|timeout|busy|nodir)\b/.test(l));
    const tail = () => tailOf(session.output());
    const words = first?.split(' ') ?? [];
    switch (words[0]) {
      case 'ready':
        return new RemoteServer(session, Number(words[1]), words[2] ?? shell.name);
      case 'busy':
        session.end();
        throw new UserError(
          `${options.label}: port ${options.port} on ${shell.name} (${words[1]}) is already in use; choose another with --port`,
        );
      case 'nodir':
        session.end();
        throw new UserError(
          `${options.label}: ${options.cwd} does not exist on ${shell.name} (${words[1]}); the server's files must be at the same paths ` +
            `on both machines (a shared file system, or copy the build directory there with rsync)`,
        );
      case 'timeout':
        await session.done;
        throw new UserError(
          `${options.label} did not listen on port ${options.port} on ${shell.name} within ${options.startTimeout ?? 30} s\n${tail()}`,
        );
      case 'exited':
        await session.done;
        throw new UserError(
          `${options.label} exited on ${shell.name} (${describeExit(exitOf(first))}) before listening on port ${options.port}\n` +
            `  command: ${options.argv.map(quote).join(' ')}\n${tail()}`,
        );
      default: {
        const r = await session.done;
        throw new UserError(
          `${options.label}: cannot start the server on ${shell.name} over ssh: ${r.stderr.trim().split('\n').slice(-3).join(' / ') || `exit status ${r.code}`}`,
        );
      }
    }
  }

  get alive(): boolean {
    return this.exited === null;
  }

  wait(): Promise<ServerExit> {
    return this.exitPromise;
  }

  /** Closes the runner's input: it sends the stop signal, and SIGKILL after its grace period. */
  async stop(): Promise<void> {
    this.session.end();
    await this.session.done;
    this.exited ??= { code: null, signal: 'SIGTERM' };
  }

  logTail(): string {
    return tailOf(this.session.output()) || '  (the server wrote no output)';
  }
}

/** `exited 143` → killed by SIGTERM (a shell reports a signal as 128 + its number). */
function exitOf(line: string | null): ServerExit {
  const status = line?.startsWith('exited ') ? Number(line.slice(7)) : NaN;
  if (!Number.isFinite(status)) return { code: null, signal: null };
  if (status > 128 && status < 128 + 65) {
    const name = Object.entries(constants.signals).find(([, n]) => n === status - 128)?.[0];
    if (name) return { code: null, signal: name as NodeJS.Signals };
  }
  return { code: status, signal: null };
}

function tailOf(lines: readonly string[]): string {
  return lines
    .filter((l) => l.startsWith('| '))
    .map((l) => `  ${l.slice(2)}`)
    .join('\n');
}
