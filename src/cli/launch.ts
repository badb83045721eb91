import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../core/errors.js';
import { lastSetup, setLaunchArgs } from './setup.js';
import { reportError } from './main.js';
import { packageFile } from '../paths.js';

const SETUP_NAMES = ['setup.ts', 'setup.mts', 'setup.js', 'setup.mjs'];

/**
 * Entry of the `infra` command: finds the project's setup script (--setup FILE, $INFRA_SETUP,
 * or setup.ts in this directory or a parent), loads it, and runs its Setup's main() if the
 * script did not. `init` needs no setup script.
 */
export async function launch(argv: string[]): Promise<void> {
  try {
    const args = [...argv];
    if (args[0] === '--version' || args[0] === '-V') {
      const { readFileSync } = await import('node:fs');
      const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string };
      process.stdout.write(`${pkg.version}\n`);
      return;
    }
    if (args[0] === 'init') {
      const { initCommand } = await import('./init-cli.js');
      await initCommand(args.slice(1));
      return;
    }
    let setupFile: string | undefined;
    const at = args.indexOf('--setup');
    if (at >= 0) {
      setupFile = args[at + 1];
      if (!setupFile) throw new UserError('--setup needs a file', { exitCode: 2 });
      args.splice(at, 2);
    }
    setupFile = setupFile ? resolve(setupFile) : process.env.INFRA_SETUP ? resolve(process.env.INFRA_SETUP) : findSetup(process.cwd());
    if (!setupFile) {
      throw new UserError(
        `no setup script found (looked for ${SETUP_NAMES.join(', ')} in ${process.cwd()} and its parents); ` +
          `create a project with 'infra init DIR', or name one with --setup FILE`,
        { exitCode: 2 },
      );
    }
    if (!existsSync(setupFile)) throw new UserError(`setup script not found: ${setupFile}`, { exitCode: 2 });
    setLaunchArgs(args);
    const { loadSetupScript } = await import('./load-setup.js');
    await loadSetupScript(setupFile);
    const setup = lastSetup();
    if (!setup) throw new UserError(`the setup script ${setupFile} did not create a Setup (new Setup(import.meta.url))`);
    if (!setup.started) await setup.main(args);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

function findSetup(start: string): string | undefined {
  let dir = start;
  for (;;) {
    for (const name of SETUP_NAMES) {
      const p = join(dir, name);
      if (existsSync(p)) return p;
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
