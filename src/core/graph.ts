import { UserError } from './errors.js';
import type { Package } from './package.js';

/**
 * All packages reachable from `roots`, deduplicated by ident (the first instance of an ident
 * wins), in an order where every package comes after its dependencies. A cycle is a UserError
 * naming the cycle.
 */
export function dependencyOrder(roots: Iterable<Package>): Package[] {
  const order: Package[] = [];
  const done = new Set<string>();
  const onStack: string[] = [];
  const visit = (pkg: Package) => {
    const id = pkg.ident();
    if (done.has(id)) return;
    const at = onStack.indexOf(id);
    if (at >= 0) {
      throw new UserError(`dependency cycle between packages: ${[...onStack.slice(at), id].join(' -> ')}`);
    }
    onStack.push(id);
    for (const dep of pkg.dependencies()) visit(dep);
    onStack.pop();
    done.add(id);
    order.push(pkg);
  };
  for (const root of roots) visit(root);
  return order;
}

/** The transitive dependencies of one package (not including itself), in build order. */
export function dependenciesOf(pkg: Package): Package[] {
  return dependencyOrder(pkg.dependencies());
}
