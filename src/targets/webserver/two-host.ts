import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Context, sha256File, sshDestination, UserError } from '../../api.js';
import { HostShell } from './shell.js';

/** The two machines of `--parallel ssh --ssh-nodes CLIENT SERVER`, as given. */
export interface TwoHostNodes {
  client: string;
  server: string;
}

/**
 * The machines of a two-host run, or null for a run on this machine only. `--parallel ssh`
 * for a web server means roles, not a pool: the first node runs the load generator, the
 * second the server (the order of the original's `--ssh-nodes CLIENT SERVER`).
 */
export function twoHostNodes(ctx: Context, target: string): TwoHostNodes | null {
  const settings = ctx.runSettings;
  if (settings?.parallel !== 'ssh') return null;
  const nodes = settings.sshNodes ?? [];
  if (nodes.length !== 2) {
    throw new UserError(
      `${target}: --parallel ssh takes two machines for a web server: --ssh-nodes CLIENT SERVER (the load generator's, then the ` +
        `server's; got ${nodes.length ? nodes.join(' ') : 'none'}). Give the same host twice to run both on it.`,
    );
  }
  return { client: nodes[0]!, server: nodes[1]! };
}

/** The host part of a `--ssh-nodes` entry (what `--server-ip` defaults to). */
export function nodeHost(node: string): string {
  const { destination } = sshDestination(node);
  return destination.slice(destination.lastIndexOf('@') + 1);
}

/**
 * The SSH side of a two-host run: one shared connection to each machine (for the server's
 * runner and sampler, the warm-up load, and checks). The measured loads themselves are
 * executions of the run's ssh backend, placed on the client's node.
 */
export class TwoHost {
  readonly client: HostShell;
  readonly server: HostShell;
  private clientChecked: Promise<void> | null = null;
  /** Binaries already compared with the server machine's copy. */
  private readonly verified = new Map<string, Promise<void>>();
  private serverName: string | null = null;

  constructor(readonly nodes: TwoHostNodes) {
    this.client = HostShell.ssh(nodes.client);
    this.server = HostShell.ssh(nodes.server);
  }

  /** wrk must be installed on the client (found on the PATH its ssh sessions get). */
  checkClient(program: string): Promise<void> {
    this.clientChecked ??= this.client
      .check(`looking for ${program}`, 'command -v "$1" >/dev/null || { echo "no $1 on $(hostname) (PATH=$PATH)" >&2; exit 1; }', [program])
      .then(() => undefined)
      .catch((e: unknown) => {
        throw new UserError(`${(e as Error).message}; install it there (e.g. apt-get install ${program})`);
      });
    return this.clientChecked;
  }

  /**
   * The server's binary must be the very build of this machine: the same path on the server
   * machine with the same content (a shared file system, or a copy made with rsync). A stale
   * or missing copy is refused, before anything starts.
   */
  verifyBinary(binary: string, label: string, buildroot: string): Promise<void> {
    let check = this.verified.get(binary);
    if (!check) {
      check = (async () => {
        const here = await sha256File(binary);
        const out = await this.server.check(`checking ${binary}`, '[ -f "$1" ] || { echo missing; exit 0; }; sha256sum -- "$1"', [binary]);
        const there = out.trim().split(/\s+/)[0];
        if (there === here) return;
        const what = there === 'missing' ? 'is missing' : 'differs from the build on this machine';
        throw new UserError(
          `${label}: ${binary} ${what} on ${this.nodes.server}; the server machine runs the build at the same path: use a shared ` +
            `file system, or copy the build there (e.g. rsync -a ${buildroot}/ ${nodeHost(this.nodes.server)}:${buildroot}/)`,
        );
      })();
      this.verified.set(binary, check);
    }
    return check;
  }

  /**
   * Makes the server's directory (configuration, served file) exist on the server machine as
   * written here: nothing to do on a shared file system (a fresh token written here is seen
   * there), otherwise it is copied over the SSH connection.
   */
  async syncDirectory(dir: string): Promise<void> {
    const token = randomBytes(12).toString('hex');
    writeFileSync(join(dir, '.infra-sync'), token);
    const seen = await this.server.check('looking at the server directory', 'cat -- "$1/.infra-sync" 2>/dev/null || true', [dir]);
    if (seen.trim() === token) return;
    const tar = spawnSync('tar', ['-C', dir, '--exclude=./logs', '-cf', '-', '.'], { maxBuffer: 1 << 30 });
    if (tar.status !== 0) throw new Error(`tar of ${dir} failed: ${tar.stderr.toString()}`);
    await this.server.check('copying the server directory', 'mkdir -p -- "$1/logs" && tar -C "$1" -xf -', [dir], tar.stdout);
  }

  /** The server machine's own host name. */
  async serverHostname(): Promise<string> {
    this.serverName ??= (await this.server.check('asking for the host name', 'hostname')).trim();
    return this.serverName;
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.server.close()]);
  }
}
