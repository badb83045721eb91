import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { ExecutionResult } from '../core/runner.js';
import { track } from '../exec/children.js';
import { isInterrupted } from '../exec/interrupt.js';
import { MEASURE_SOURCE, type MeasureSpec } from '../exec/measure.js';
import { quote } from '../util/shell.js';
import type { BackendResult, ExecutionBackend } from './pool.js';
import { errorResult, runClient, tail } from './remote.js';
import { createRunStateDir } from './leftovers.js';
import { helperArguments, resultFromHelper } from '../exec/measure.js';

export interface SshBackendOptions {
  /** `[user@]host[:port]` (or `[user@][ipv6]:port`); names from ~/.ssh/config work. */
  nodes: string[];
  /** Executions at once on each node (default 1). */
  perNode?: number;
  log: Logger;
  /** Seconds to wait for a connection (default 10). */
  connectTimeout?: number;
}

type SshArgv = (node: SshNode, command: string | null, extra?: string[]) => string[];

/** One node as given on the command line, and what probing it found. */
interface SshNode {
  /** As the user wrote it; used in messages and as the host of a node never reached. */
  name: string;
  destination: string;
  port?: number;
  /** The node's own hostname, once reached. */
  hostname?: string;
  /** Path of the measurement helper on the node, once installed. */
  helper?: string;
  /** Why the node cannot be used. */
  error?: string;
  running: number;
}

/** Where the helper is cached on a node (by the hash of its source), relative to $HOME. */
const REMOTE_CACHE = '${XDG_CACHE_HOME:-$HOME/.cache}/instrumentation-infra';

/**
 * Runs executions on other machines over SSH (`--parallel ssh --ssh-nodes HOST...`). The
 * `ssh` program is called with argv arrays and `BatchMode=yes`, so ~/.ssh/config (users,
 * keys, jump hosts) applies and nothing ever prompts. Each node gets the measurement helper
 * once: its C source is copied and compiled there with `cc` into
 * `~/.cache/instrumentation-infra/measure-<hash>`. The benchmark's binaries, inputs and
 * working directory must exist at the same paths on every node (a shared filesystem, or
 * copies). The benchmark's output is written on the node and copied back into the local
 * results directory before the execution is recorded; the record's host is the node's
 * hostname. A node that cannot be reached is left out (with a warning); when no node can be
 * reached, every execution is recorded as an error saying why.
 */
export async function createSshBackend(options: SshBackendOptions): Promise<ExecutionBackend> {
  if (options.nodes.length === 0) {
    throw new UserError('--parallel ssh needs the machines to run on: --ssh-nodes HOST[:PORT]... (or user@host)');
  }
  const perNode = options.perNode ?? 1;
  const nodes = options.nodes.map(parseNode);
  // connection multiplexing: one TCP connection and login per node for the whole run
  // (a killed run's sockets are found and its connections stopped by the next run or `infra clean`)
  const state = await createRunStateDir(tmpdir(), 'infra-ssh-');
  const controlDir = state.path;
  const connectTimeout = options.connectTimeout ?? 10;
  const sshArgv = (node: SshNode, command: string | null, extra: string[] = []): string[] => [
    'ssh',
    ...extra,
    '-T',
    '-o',
    'BatchMode=yes',
    '-o',
    `ConnectTimeout=${connectTimeout}`,
    '-o',
    'ServerAliveInterval=30',
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPath=${controlDir}/%C`,
    '-o',
    'ControlPersist=120',
    ...(node.port !== undefined ? ['-p', String(node.port)] : []),
    node.destination,
    ...(command === null ? [] : [command]),
  ];

  const source = readFileSync(MEASURE_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  await Promise.all(nodes.map((node) => installHelper(node, sshArgv, source, hash)));
  const live = nodes.filter((n) => !n.error);
  for (const node of nodes) {
    if (node.error) options.log.warning(`ssh node ${node.name} is not used: ${node.error}`);
    else options.log.debug(`ssh node ${node.name} is ${node.hostname}; measurement helper ${node.helper}`);
  }

  return {
    name: 'ssh',
    capacity: Math.max(1, live.length) * perNode,
    async execute(spec: MeasureSpec): Promise<BackendResult> {
      // the pool never runs more than `capacity` at once, so a live node always has room
      // (an execution placed on one node waits for it in its exclusive group, see BenchmarkRun.node)
      const candidates = spec.node === undefined ? live : live.filter((n) => n.name === spec.node);
      const node = candidates.filter((n) => n.running < perNode).sort((a, b) => a.running - b.running)[0];
      if (!node && spec.node !== undefined) {
        const known = nodes.find((n) => n.name === spec.node);
        const why = known
          ? `${spec.node}: ${known.error ?? 'busy'}`
          : `'${spec.node}' is not one of --ssh-nodes ${options.nodes.join(' ')}`;
        return { ...errorResult(spec, `the ssh node of this execution cannot be used (${why})`), host: spec.node };
      }
      if (!node) {
        const why = nodes.map((n) => `${n.name}: ${n.error}`).join('; ');
        return { ...errorResult(spec, `no ssh node could be used (${why})`), host: nodes[0]!.name };
      }
      node.running++;
      try {
        return { ...(await executeOnNode(node, spec, sshArgv)), host: node.hostname ?? node.name };
      } finally {
        node.running--;
      }
    },
    async close(): Promise<void> {
      await Promise.all(nodes.map((node) => runClient(sshArgv(node, null, ['-O', 'exit']))));
      state.remove();
    },
  };
}

/** The ssh destination (`[user@]host`) and port of a `--ssh-nodes` entry, for programs that open their own connections. */
export function sshDestination(text: string): { destination: string; port?: number } {
  const { destination, port } = parseNode(text);
  return port === undefined ? { destination } : { destination, port };
}

/** `[user@]host[:port]`, `[user@][v6addr][:port]`, or `[user@]v6addr` (no port). */
function parseNode(text: string): SshNode {
  const at = text.lastIndexOf('@');
  const user = at >= 0 ? text.slice(0, at + 1) : '';
  const rest = text.slice(at + 1);
  const m =
    /^\[([0-9a-fA-F:.%\w]+)\](?::(\d+))?$/.exec(rest) ??
    /^([^:\s[\]]+)(?::(\d+))?$/.exec(rest) ??
    /^([0-9a-fA-F]*:[0-9a-fA-F:.]+)()$/.exec(rest);
  if (!m || (at >= 0 && user.length === 1)) {
    throw new UserError(`--ssh-nodes: '${text}' is not a node; write HOST, HOST:PORT, USER@HOST[:PORT] or [IPV6]:PORT`);
  }
  const node: SshNode = { name: text, destination: user + m[1]!, running: 0 };
  if (m[2]) {
    const port = Number(m[2]);
    if (!(port >= 1 && port <= 65535)) throw new UserError(`--ssh-nodes: port ${m[2]} of '${text}' is not between 1 and 65535`);
    node.port = port;
  }
  return node;
}

/**
 * Connects to the node (which also starts the shared connection), compiles the helper there
 * unless it is cached, and learns the node's hostname. Failures are stored in `node.error`.
 */
async function installHelper(node: SshNode, sshArgv: SshArgv, source: Buffer, hash: string): Promise<void> {
  const script = [
    'set -e',
    `d="${REMOTE_CACHE}"`,
    `h="$d/measure-${hash}"`,
    'if [ ! -x "$h" ]; then',
    '  mkdir -p "$d"',
    '  t="$h.tmp.$$"',
    '  cat > "$t.c"',
    '  if ! { cc -O2 -static -o "$t" "$t.c" || cc -O2 -o "$t" "$t.c"; } > "$t.log" 2>&1; then',
    '    cat "$t.log" >&2; rm -f "$t" "$t.c" "$t.log"; exit 3',
    '  fi',
    '  mv "$t" "$h"; rm -f "$t.c" "$t.log"',
    'fi',
    'printf "%s\\n" "$h"',
    'hostname',
  ].join('\n');
  const r = await runClient(sshArgv(node, script), { input: source });
  if (r.spawnError) {
    node.error = r.spawnError.code === 'ENOENT' ? "the 'ssh' program is not installed here (package openssh-client)" : r.spawnError.message;
    return;
  }
  const [helper, hostname] = r.stdout.trim().split('\n');
  if (r.code === 0 && helper && hostname) {
    node.helper = helper;
    node.hostname = hostname.trim();
  } else if (r.code === 255) {
    node.error = `cannot connect: ${tail(r.stderr, 2) || 'ssh exit status 255'}`;
  } else if (r.code === 3) {
    node.error = `cannot build the measurement helper there (a C compiler 'cc' is needed): ${tail(r.stderr, 3)}`;
  } else {
    node.error = `setting up the node failed (${r.signal ?? `exit status ${r.code}`}): ${tail(r.stderr, 3) || 'no output'}`;
  }
}

/**
 * One execution: a shell script on the node (sent as the connection's first input) runs the
 * helper with the benchmark's exact environment (in a file the helper reads and removes) in a
 * fresh temporary directory and streams
 * that directory back as a tar archive, which is unpacked locally beside the execution's log
 * files. When the local ssh
 * is killed (an interrupt), the node sees its input close and stops the helper, which
 * stops the benchmark.
 */
async function executeOnNode(node: SshNode, spec: MeasureSpec, sshArgv: SshArgv): Promise<ExecutionResult> {
  const env = Object.entries(spec.env).map(([k, v]) => quote(`${k}=${v}`));
  const files = { stdout: '\u0000stdout', stderr: '\u0000stderr', result: '\u0000result', env: '\u0000env' };
  // the helper's files are in "$d", which only the node's shell knows
  const args = helperArguments(spec, files).map((a) => (a.startsWith('\u0000') ? `"$d/${a.slice(1)}"` : quote(a)));
  const script = [
    'umask 077',
    'd=$(mktemp -d "${TMPDIR:-/tmp}/infra-measure.XXXXXX") || exit 97',
    `trap 'rm -rf "$d"' EXIT`,
    "trap 'exit 1' HUP PIPE TERM INT",
    'exec 3<&0',
    // printf is a builtin: the values go from this script (read from our input) to a 0600 file
    // that the helper removes once read, never into a command line
    env.length > 0 ? `printf '%s\\0' ${env.join(' ')} >"$d/env"` : ': >"$d/env"',
    `if cd -- ${quote(spec.cwd)} 2>/dev/null; then`,
    `  ${quote(node.helper!)} ${args.join(' ')} </dev/null >"$d/helper.out" 2>"$d/helper.err" 3<&- &`,
    '  p=$!',
    // our input closes when the local ssh dies: pass that on as SIGTERM (the helper forwards it)
    '  { cat >/dev/null; kill -TERM $p; } <&3 >/dev/null 2>&1 &',
    '  w=$!',
    '  wait $p; echo $? >"$d/helper.status"',
    '  kill $w 2>/dev/null',
    'else',
    `  echo "working directory does not exist on $(hostname): "${quote(spec.cwd)} >"$d/error"`,
    'fi',
    'tar -C "$d" -cf - .',
  ].join('\n');

  const logDir = dirname(spec.stdoutPath);
  mkdirSync(logDir, { recursive: true });
  mkdirSync(dirname(spec.stderrPath), { recursive: true });
  const unpack = mkdtempSync(join(logDir, '.remote-'));
  try {
    // the script (with the environment) goes over the connection, not into the node's process list
    const bytes = Buffer.from(script, 'utf8');
    const outcome = await streamToTar(sshArgv(node, `s=$(head -c ${bytes.length}) && eval "$s"`), bytes, unpack);
    const file = (name: string) => join(unpack, name);
    const read = (name: string) => (existsSync(file(name)) ? readFileSync(file(name), 'utf8') : undefined);
    const incomplete = !existsSync(file('helper.status')) && !existsSync(file('error'));
    if (incomplete && (outcome.sshSignal || isInterrupted())) {
      // the node stops the helper when our ssh goes away
      return errorResult(
        spec,
        `measurement interrupted (ssh to ${node.name} ${outcome.sshSignal ? `killed by ${outcome.sshSignal}` : 'stopped'})`,
      );
    }
    if (incomplete && outcome.sshCode === 255) {
      return errorResult(spec, `ssh to ${node.name} failed: ${tail(outcome.sshStderr, 2) || 'connection lost'}`);
    }
    const workdirError = read('error');
    if (workdirError !== undefined) return errorResult(spec, workdirError.trim());
    const result = resultFromHelper(read('result') ?? '', spec);
    if (!result) {
      const status = read('helper.status')?.trim();
      const why = tail(read('helper.err') ?? '', 3) || tail(outcome.tarStderr, 2) || tail(outcome.sshStderr, 2) || 'no result written';
      return errorResult(spec, `measurement helper on ${node.name} failed${status ? ` (exit status ${status})` : ''}: ${why}`);
    }
    if (existsSync(file('stdout'))) renameSync(file('stdout'), spec.stdoutPath);
    if (existsSync(file('stderr'))) renameSync(file('stderr'), spec.stderrPath);
    return result;
  } finally {
    rmSync(unpack, { recursive: true, force: true });
  }
}

interface StreamOutcome {
  sshCode: number | null;
  sshSignal: NodeJS.Signals | null;
  sshStderr: string;
  tarStderr: string;
}

/** Runs ssh with `input` (and then nothing, until it exits) as its input and its output piped into `tar -x` in `dir`. */
function streamToTar(argv: string[], input: Buffer, dir: string): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const ssh = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    track(ssh);
    const tar = spawn('tar', ['-x', '-f', '-', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
    ssh.stdout.pipe(tar.stdin);
    // the node reads our end until the execution is over; closing it would stop the helper
    ssh.stdin.on('error', () => {});
    ssh.stdin.write(input);
    tar.stdin.on('error', () => {});
    let sshStderr = '';
    let tarStderr = '';
    ssh.stderr.on('data', (c: Buffer) => (sshStderr += c.toString()));
    tar.stderr.on('data', (c: Buffer) => (tarStderr += c.toString()));
    let sshDone: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let tarDone = false;
    const settle = () => {
      if (sshDone && tarDone) resolve({ sshCode: sshDone.code, sshSignal: sshDone.signal, sshStderr, tarStderr });
    };
    ssh.once('error', (e) => {
      sshStderr += e.message;
      sshDone = { code: 255, signal: null };
      tar.stdin.end();
      settle();
    });
    ssh.once('close', (code, signal) => {
      sshDone = { code, signal };
      ssh.stdin.destroy();
      settle();
    });
    tar.once('error', (e) => {
      tarStderr += e.message;
      tarDone = true;
      settle();
    });
    tar.once('close', () => {
      tarDone = true;
      settle();
    });
  });
}
