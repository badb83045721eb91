import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import { allPackages } from '../core/packages.js';
import type { Setup } from '../core/setup.js';

export interface ConfigOptions {
  targets?: boolean;
  instances?: boolean;
  packages?: boolean;
}

/** `infra config --targets|--instances|--packages`: prints registered names, one per line. */
export async function config(setup: Setup, _ctx: Context, opts: ConfigOptions): Promise<void> {
  const lines: string[] = [];
  if (opts.targets) lines.push(...[...setup.targets.keys()].sort());
  if (opts.instances) lines.push(...[...setup.instances.keys()].sort());
  if (opts.packages)
    lines.push(
      ...allPackages(setup)
        .map((p) => p.ident())
        .sort(),
    );
  if (!opts.targets && !opts.instances && !opts.packages) {
    throw new UserError('choose what to list: --targets, --instances and/or --packages', { exitCode: 2 });
  }
  if (lines.length) process.stdout.write(lines.join('\n') + '\n');
}
