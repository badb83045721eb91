import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { Setup } from '../core/setup.js';
import { Target } from '../core/target.js';
import { readRunInfo } from './meta.js';
import { META_FILE, type RunMeta } from './schema.js';

/**
 * Stands in for a target that is not registered (no project here, or the target was removed
 * from it): its results can still be reported and compared, with the field descriptions
 * (units included) and grouping field that `run` stored in meta.json.
 */
export class RecordedTarget extends Target {
  override aggregationField: string;

  constructor(
    readonly name: string,
    private readonly fields: Record<string, string> = {},
    aggregationField?: string,
  ) {
    super();
    this.aggregationField = aggregationField ?? 'benchmark';
  }
  override reportableFields(): Record<string, string> {
    return this.fields;
  }
  isFetched(): boolean {
    return true;
  }
  fetch(): never {
    throw new UserError(`target '${this.name}' is not registered in this project`);
  }
  build(): never {
    return this.fetch();
  }
  run(): never {
    return this.fetch();
  }
}

/** A recorded target from the runs' meta.json files of target `name` (later runs' descriptions win). */
export function recordedTarget(name: string, metas: ReadonlyArray<RunMeta | undefined>): RecordedTarget {
  const own = metas.filter((m): m is RunMeta => m?.target === name);
  const fields = Object.assign({}, ...own.map((m) => m.fields ?? {})) as Record<string, string>;
  return new RecordedTarget(name, fields, own.find((m) => m.aggregationField)?.aggregationField);
}

/**
 * The target `infra report TARGET RUNDIR...` reports: the project's, or else the one the
 * results describe, so a results directory copied elsewhere is reported where there is no
 * project (or the target is no longer registered). Inside a project, a name that neither the
 * project nor the results know is reported as the project's unknown target.
 */
export function reportTarget(setup: Setup, name: string, paths: readonly string[]): Target {
  const registered = setup.targets.get(name);
  if (registered) return registered;
  const metas = paths.flatMap(runMetas);
  const inProject = existsSync(setup.setupPath);
  if (inProject && !metas.some((m) => m.target === name)) return setup.getTarget(name);
  return recordedTarget(name, metas);
}

/** The meta.json of a run directory, or of the run directories in a directory of runs. */
function runMetas(path: string): RunMeta[] {
  const own = readRunInfo(path).meta;
  if (own) return [own];
  if (!existsSync(path) || !statSync(path).isDirectory()) return [];
  return readdirSync(path)
    .filter((e) => existsSync(join(path, e, META_FILE)))
    .sort()
    .flatMap((e) => readRunInfo(join(path, e)).meta ?? []);
}
