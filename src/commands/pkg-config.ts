import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import { findPackage } from '../core/packages.js';
import type { Setup } from '../core/setup.js';
import { qjoin } from '../util/shell.js';

/**
 * `infra pkg-config PACKAGE [OPTION...]`: prints what a build system needs to use a package
 * (prefix, flags...), one line per option; lists are printed shell-quoted. Without options,
 * lists the package's options.
 */
export interface PkgConfigInput {
  package: string;
  /** pkg-config options of the package (`--prefix`...); none lists them. */
  options: string[];
}

export async function pkgConfig(setup: Setup, ctx: Context, { package: ident, options }: PkgConfigInput): Promise<void> {
  const pkg = findPackage(setup, ident);
  const available = pkg.pkgConfigOptions(ctx);
  if (options.length === 0) {
    const width = Math.max(...available.map((o) => o.option.length));
    process.stdout.write(available.map((o) => `${o.option.padEnd(width)}  ${o.description}`).join('\n') + '\n');
    return;
  }
  const out: string[] = [];
  for (const name of options) {
    const opt = available.find((o) => o.option === name);
    if (!opt) {
      throw new UserError(
        `package ${ident} has no pkg-config option '${name}'; valid options: ${available.map((o) => o.option).join(', ')}`,
        { exitCode: 2 },
      );
    }
    const value = typeof opt.value === 'function' ? await opt.value() : opt.value;
    out.push(typeof value === 'string' ? value : qjoin(value));
  }
  process.stdout.write(out.join('\n') + '\n');
}
