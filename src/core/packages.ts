import { unknownName } from './errors.js';
import { dependencyOrder } from './graph.js';
import type { Package } from './package.js';
import type { Setup } from './setup.js';

/** Every package the registered targets and instances depend on (transitively), in build order. */
export function allPackages(setup: Setup): Package[] {
  const roots: Package[] = [];
  for (const t of setup.targets.values()) roots.push(...t.dependencies());
  for (const i of setup.instances.values()) roots.push(...i.dependencies());
  return dependencyOrder(roots);
}

/** The registered package with this ident, or a UserError listing the valid idents. */
export function findPackage(setup: Setup, ident: string): Package {
  const all = allPackages(setup);
  const pkg = all.find((p) => p.ident() === ident);
  if (!pkg)
    throw unknownName(
      'package',
      ident,
      all.map((p) => p.ident()),
    );
  return pkg;
}
