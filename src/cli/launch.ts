import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../core/errors.js';
import { Setup as Registry } from '../core/setup.js';
import { lastSetup, setLaunchArgs } from './setup.js';
import { reportError, runCli } from './main.js';
import { commandName, normalizeArgv } from './commands.js';
import { packageVersion } from '../paths.js';

const SETUP_NAMES = ['setup.ts', 'setup.mts', 'setup.js', 'setup.mjs'];

/**
 * Entry of the `infra` command: finds the project's setup script (--setup FILE, $INFRA_SETUP,
 * or setup.ts in this directory or a parent), loads it, and runs its Setup's main() if the
 * script did not. Without a setup script (and for `init`) the built-in commands are there
 * for help, `init` and `completion`; the others say how to start a project.
 */
export async function launch(argv: string[]): Promise<void> {
  // `infra --help | head`: a reader that stops early is no error
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  try {
    const args = normalizeArgv(argv);
    if (args[0] === '--version' || args[0] === '-V') {
      process.stdout.write(`${packageVersion()}\n`);
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
    if (!setupFile || commandName(args) === 'init') {
      const noProject =
        `no setup script found (looked for ${SETUP_NAMES.join(', ')} in ${process.cwd()} and its parents); ` +
        `create a project with 'infra init DIR', or name one with --setup FILE`;
      await runCli(new Registry(join(process.cwd(), SETUP_NAMES[0]!)), args, { noProject });
      return;
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
