import type { Context } from '../core/context.js';
import { allPackages } from '../core/packages.js';
import type { Setup } from '../core/setup.js';

export interface ConfigOptions {
  targets?: boolean;
  instances?: boolean;
  packages?: boolean;
}

/**
 * `infra config [--targets] [--instances] [--packages]`: the registered names in registration
 * order. One flag prints bare names, one per line (for scripts); several flags, or none (then
 * everything), print each list under its label.
 */
export async function config(setup: Setup, _ctx: Context, opts: ConfigOptions): Promise<void> {
  const lists: Array<[keyof ConfigOptions, () => string[]]> = [
    ['targets', () => [...setup.targets.keys()]],
    ['instances', () => [...setup.instances.keys()]],
    ['packages', () => allPackages(setup).map((p) => p.ident())],
  ];
  const chosen = lists.filter(([name]) => opts[name]);
  const shown = chosen.length ? chosen : lists;
  if (shown.length === 1) {
    const names = shown[0]![1]();
    if (names.length) process.stdout.write(names.join('\n') + '\n');
    return;
  }
  const blocks = shown.map(([label, names]) => {
    const list = names();
    return `${label}:\n${list.length ? list.map((n) => `  ${n}`).join('\n') : '  (none)'}`;
  });
  process.stdout.write(blocks.join('\n') + '\n');
}
