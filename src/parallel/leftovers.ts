import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserError } from '../core/errors.js';
import { BuildLock } from '../core/lock.js';
import { Logger } from '../core/log.js';
import { runClient } from './remote.js';

/**
 * The state a remote run keeps outside its results directory (Slurm and prun job files under
 * `build/.infra`, ssh connection sockets under the temporary directory) is in a directory of
 * its own, owned by the run through a lock file in it. The run removes it when it ends; if the
 * run was killed, the next run or `infra clean` finds the directory's owner dead, cancels the
 * batch jobs listed in it, stops the ssh connections and removes it.
 */
export interface RunStateDir {
  path: string;
  /** Notes a submitted batch job, to be cancelled if the run is killed before it ends. */
  addJob(id: string): void;
  /** Removes the directory (the run is over). */
  remove(): void;
}

const OWNER = '.owner';
const JOBS = 'jobs';
const quiet = new Logger('error');

/** Makes a new state directory `PREFIX*` under `parent`, owned by this process. */
export async function createRunStateDir(parent: string, prefix: string): Promise<RunStateDir> {
  const path = mkdtempSync(join(parent, prefix));
  const lock = new BuildLock(join(path, OWNER), quiet, path);
  await lock.acquire(`infra ${process.argv.slice(2).join(' ')}`, { ifHeld: 'refuse' });
  return {
    path,
    addJob: (id) => appendFileSync(join(path, JOBS), `${id}\n`),
    remove: () => {
      lock.release();
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Where state directories live: `<buildroot>/.infra/{slurm,prun}-jobs-*` and `$TMPDIR/infra-ssh-*`. */
function stateDirs(buildroot: string): string[] {
  const list = (parent: string, prefixes: string[]) => {
    try {
      return readdirSync(parent)
        .filter((n) => prefixes.some((p) => n.startsWith(p)))
        .map((n) => join(parent, n));
    } catch {
      return [];
    }
  };
  return [...list(join(buildroot, '.infra'), ['slurm-jobs-', 'prun-jobs-']), ...list(tmpdir(), ['infra-ssh-'])];
}

/**
 * Removes what killed runs left: cancels their Slurm jobs, stops their ssh connections and
 * removes their state directories. Directories of live runs (and of older versions, which have
 * no owner file) are left alone. Returns how many directories were removed.
 */
export async function removeLeftovers(buildroot: string, log: Logger): Promise<number> {
  let removed = 0;
  for (const dir of stateDirs(buildroot)) {
    if (!existsSync(join(dir, OWNER))) continue;
    const lock = new BuildLock(join(dir, OWNER), quiet, dir);
    try {
      await lock.acquire('removing what a killed run left', { ifHeld: 'refuse', pollMs: 50 });
    } catch (e) {
      if (isUserError(e)) continue; // its run is alive
      throw e;
    }
    const what: string[] = [];
    const jobs = existsSync(join(dir, JOBS)) ? readFileSync(join(dir, JOBS), 'utf8').split('\n').filter(Boolean) : [];
    if (jobs.length > 0) {
      const r = await runClient(['scancel', ...jobs], { untracked: true });
      what.push(r.code === 0 ? `cancelled its jobs ${jobs.join(', ')}` : `could not cancel its jobs ${jobs.join(', ')}`);
    }
    for (const socket of readdirSync(dir).filter((n) => n !== OWNER && n !== JOBS)) {
      if (!dir.includes('infra-ssh-')) break;
      await runClient(['ssh', '-o', `ControlPath=${join(dir, socket)}`, '-O', 'exit', 'leftover'], { untracked: true });
      what.push('stopped its ssh connection');
    }
    lock.release();
    rmSync(dir, { recursive: true, force: true });
    log.warning(`a killed run left ${dir}: ${[...new Set(what), 'removed it'].join('; ')}`);
    removed++;
  }
  return removed;
}
