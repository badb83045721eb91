import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import type { Setup } from '../core/setup.js';
import { run } from '../exec/run.js';

/**
 * `infra check`: type-checks the setup script and what it imports with the project's own
 * TypeScript (node_modules/typescript), using the project's tsconfig.json when it has one.
 * The launcher only strips types, so without this a type error shows up (if at all) at run time.
 */
export async function check(setup: Setup, ctx: Context): Promise<void> {
  const tsc = projectTsc(setup.root);
  const tsconfig = join(setup.root, 'tsconfig.json');
  const args = existsSync(tsconfig)
    ? ['-p', tsconfig, '--noEmit']
    : // the settings `infra init` writes, for a project without a tsconfig.json
      [
        '--noEmit',
        '--strict',
        '--target',
        'ES2022',
        '--module',
        'NodeNext',
        '--moduleResolution',
        'NodeNext',
        '--skipLibCheck',
        setup.setupPath,
      ];
  const result = await run(ctx, [process.execPath, tsc, '--pretty', 'false', ...args], { cwd: setup.root, allowError: true, silent: true });
  if (result.exitCode === 0) {
    ctx.log.info(`${setup.setupPath}: no type errors`);
    return;
  }
  const errors = result.output.split('\n').filter((l) => /error TS\d+/.test(l));
  process.stdout.write(result.output.endsWith('\n') || !result.output ? result.output : `${result.output}\n`);
  const unresolved = errors.some((l) => /TS2307.*'instrumentation-infra'/.test(l))
    ? "; the module 'instrumentation-infra' is not installed in the project: run 'npm install' (package.json lists it as a devDependency)"
    : '';
  throw new UserError(
    `the setup script has ${errors.length || 'some'} type error${errors.length === 1 ? '' : 's'} (listed above)${unresolved}`,
  );
}

/** The project's TypeScript compiler, or a UserError saying how to install it. */
function projectTsc(root: string): string {
  try {
    const manifest = createRequire(join(root, 'package.json')).resolve('typescript/package.json');
    return join(dirname(manifest), 'bin', 'tsc');
  } catch {
    throw new UserError(
      `no TypeScript in this project (looked for node_modules/typescript from ${root}); ` +
        `install it with 'npm install' (a project made by 'infra init' lists it) or 'npm install --save-dev typescript @types/node', then rerun 'infra check'`,
    );
  }
}
