// Two "machines" on this one: network namespaces on a bridge, each with its own sshd and host
// name (its own UTS namespace), reachable from the host as root@ADDR. Made and removed by
// root; everything is named after this process, torn down by PID and namespace name.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LabHost {
  /** Network namespace name. */
  ns: string;
  /** Host name inside it. */
  hostname: string;
  address: string;
  /** `root@ADDRESS`, for --ssh-nodes. */
  node: string;
  sshd: ChildProcess;
}

export interface Lab {
  client: LabHost;
  server: LabHost;
  bridgeAddress: string;
  teardown(): void;
}

/** Why the lab cannot be made here, or null. */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to make network namespaces and start sshd';
  for (const p of ['/usr/sbin/sshd', '/usr/sbin/ip', '/usr/bin/unshare']) if (!existsSync(p)) return `${p} is missing`;
  if (!existsSync(join(homedir(), '.ssh', 'id_ed25519'))) return 'root has no ssh key; run scripts/start-test-services.sh first';
  return null;
}

function sh(argv: string[], allowError = false): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0 && !allowError) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * Makes the client and server namespaces. `cpus` pins each side's sshd (and so everything
 * started over it) to a CPU list, e.g. { client: '0', server: '1' }.
 */
export async function makeLab(options: { cpus?: { client: string; server: string } } = {}): Promise<Lab> {
  const id = process.pid % 100000;
  const net = `10.${200 + (id % 50)}.${Math.floor(id / 50) % 250}`;
  const bridge = `ibr${id}`;
  const state = mkdtempSync(join(tmpdir(), 'infra-lab-'));
  const knownHosts = join(homedir(), '.ssh', 'known_hosts');
  const hostKey = join(state, 'host_key');
  sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const hosts: LabHost[] = [];
  const addresses: string[] = [];
  const teardown = () => {
    for (const h of hosts) {
      try {
        process.kill(h.sshd.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    for (const side of ['c', 's']) sh(['ip', 'netns', 'del', `infra-${side}${id}`], true);
    sh(['ip', 'link', 'del', bridge], true);
    for (const a of addresses) sh(['ssh-keygen', '-q', '-R', a, '-f', knownHosts], true);
    rmSync(state, { recursive: true, force: true });
  };
  try {
    sh(['ip', 'link', 'add', bridge, 'type', 'bridge']);
    sh(['ip', 'addr', 'add', `${net}.254/24`, 'dev', bridge]);
    sh(['ip', 'link', 'set', bridge, 'up']);
    const key = readFileSync(`${hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    for (const [i, side] of [
      [1, 'client'],
      [2, 'server'],
    ] as const) {
      const ns = `infra-${side[0]}${id}`;
      const address = `${net}.${i}`;
      const [outer, inner] = [`iv${side[0]}${id}`, `ip${side[0]}${id}`];
      sh(['ip', 'netns', 'add', ns]);
      sh(['ip', 'link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
      sh(['ip', 'link', 'set', inner, 'netns', ns]);
      sh(['ip', 'link', 'set', outer, 'master', bridge, 'up']);
      sh(['ip', '-n', ns, 'addr', 'add', `${address}/24`, 'dev', inner]);
      sh(['ip', '-n', ns, 'link', 'set', inner, 'up']);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      addresses.push(address);
      appendFileSync(knownHosts, `${address} ${key}\n`);
      const hostname = `infra-${side}`;
      const pin = options.cpus ? ['taskset', '-c', options.cpus[side]] : [];
      const logFile = join(state, `${side}.log`);
      const fd = openSync(logFile, 'a');
      const sshd = spawn(
        'ip',
        [
          ...['netns', 'exec', ns, ...pin, 'unshare', '--uts', 'sh', '-c', 'hostname "$0" && exec "$@"', hostname],
          ...['/usr/sbin/sshd', '-D', '-e', '-p', '22', '-h', hostKey, '-o', `ListenAddress=${address}`, '-o', 'PidFile=none'],
          ...['-o', 'PermitRootLogin=prohibit-password', '-o', 'PasswordAuthentication=no', '-o', 'UsePAM=no'],
        ],
        { stdio: ['ignore', 'ignore', fd] },
      );
      closeSync(fd);
      sshd.unref();
      hosts.push({ ns, hostname, address, node: `root@${address}`, sshd });
      const deadline = Date.now() + 10_000;
      while (spawnSync('ssh', ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=2', `root@${address}`, 'true']).status !== 0) {
        if (Date.now() > deadline || sshd.exitCode !== null)
          throw new Error(`sshd in ${ns} did not answer: ${readFileSync(logFile, 'utf8')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (e) {
    teardown();
    throw e;
  }
  return { client: hosts[0]!, server: hosts[1]!, bridgeAddress: `${net}.254`, teardown };
}
