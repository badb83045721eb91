import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { isInterrupted } from '../exec/interrupt.js';
import { MEASURE_SOURCE, type MeasureSpec } from '../exec/measure.js';
import type { BackendResult, ExecutionBackend } from './pool.js';
import { errorResult, runClient, tail } from './remote.js';
import { createRunStateDir } from './leftovers.js';
import { DurationEstimate, type QueuedExecution } from './batch.js';
import { SshSession } from './ssh-session.js';

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
 * copies). Each node gets `--parallelmax` long-lived sessions over its shared connection
 * (src/parallel/ssh-session.ts), each running executions one after another as they are sent,
 * short ones sent a few ahead; the benchmark's output is written on the node and sent back
 * into the local results directory as each execution ends, before it is recorded; the
 * record's host is the node's hostname. A session whose connection is lost fails the
 * executions it holds (as errors, which `--resume` runs again); the next ones open a new
 * session. A node that cannot be reached is left out (with a warning); when no node can be
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

  // executions wait here until a session has room; a free session always takes the next one
  const waiting: QueuedExecution[] = [];
  const estimate = new DurationEstimate();
  const sessions = live.flatMap((node) => Array.from({ length: perNode }, () => ({ node, session: undefined as SshSession | undefined })));
  const opened: SshSession[] = [];
  const dispatch = () => {
    if (isInterrupted()) {
      for (const e of waiting.splice(0)) e.resolve({ ...errorResult(e.spec, 'interrupted before it started'), host: 'unknown' });
      return;
    }
    const depth = pipelineDepth(estimate.seconds);
    for (;;) {
      if (waiting.length === 0) return;
      const slot = sessions
        .filter((s) => !s.session?.alive || s.session.outstanding < depth)
        .sort((a, b) => (a.session?.alive ? a.session.outstanding : 0) - (b.session?.alive ? b.session.outstanding : 0))[0];
      if (!slot) return;
      if (!slot.session?.alive) {
        const node = slot.node;
        slot.session = new SshSession((command) => sshArgv(node, command, DIRECT), node.name, node.hostname!, node.helper!);
        opened.push(slot.session);
      }
      const room = depth - slot.session.outstanding;
      slot.session.send(waiting.splice(0, Math.min(room, waiting.length)));
    }
  };

  return {
    name: 'ssh',
    capacity: Math.max(1, sessions.length) * MAX_PIPELINE,
    runningAtOnce: Math.max(1, sessions.length),
    execute(spec: MeasureSpec): Promise<BackendResult> {
      if (live.length === 0) {
        const why = nodes.map((n) => `${n.name}: ${n.error}`).join('; ');
        return Promise.resolve({ ...errorResult(spec, `no ssh node could be used (${why})`), host: nodes[0]!.name });
      }
      return new Promise((resolve, reject) => {
        waiting.push({
          spec,
          resolve: (r) => {
            estimate.add(r);
            resolve(r);
            // the next execution goes out as soon as one is back
            dispatch();
          },
          reject,
        });
        dispatch();
      });
    },
    async close(): Promise<void> {
      await Promise.all(opened.map((s) => s.close()));
      await Promise.all(nodes.map((node) => runClient(sshArgv(node, null, ['-O', 'exit']))));
      state.remove();
    },
  };
}

/**
 * A session has a connection of its own: through the shared one its bytes would pass one more
 * process (the connection's master) each way, which costs more than the one login it saves.
 */
const DIRECT = ['-o', 'ControlMaster=no', '-o', 'ControlPath=none'];

/** Executions sent ahead to one session at most (see {@link pipelineDepth}). */
const MAX_PIPELINE = 4;

/**
 * How many executions a session holds at once: short ones are sent ahead so the node never
 * waits for this machine; long ones one at a time, so that no node gets work another node,
 * idle, could have run (and until the first is measured nothing is known: one at a time).
 */
function pipelineDepth(expected: number | undefined): number {
  if (expected === undefined || expected >= 1) return 1;
  return expected < 0.1 ? MAX_PIPELINE : 2;
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
  const node: SshNode = { name: text, destination: user + m[1]! };
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
