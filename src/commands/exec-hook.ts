import type { Context, ContextHooks } from '../core/context.js';
import { dependencyOrder } from '../core/graph.js';
import { UserError } from '../core/errors.js';
import type { Setup } from '../core/setup.js';

export const HOOK_NAMES: Record<string, keyof ContextHooks> = {
  'pre-build': 'preBuild',
  'post-build': 'postBuild',
  'pre-run': 'preRun',
  'post-run': 'postRun',
};

/**
 * `infra exec-hook HOOK INSTANCE FILE...`: runs the hooks an instance installs on the given
 * files, so a target's own build system (a Makefile, SPEC's harness) can call back into the
 * setup after it produced a binary.
 */
export interface ExecHookInput {
  hook: string;
  instance: string;
  files: string[];
}

export async function execHook(setup: Setup, base: Context, { hook, instance: instanceName, files }: ExecHookInput): Promise<void> {
  const key = HOOK_NAMES[hook];
  if (!key) throw new UserError(`unknown hook '${hook}'; valid hooks: ${Object.keys(HOOK_NAMES).join(', ')}`, { exitCode: 2 });
  const instance = setup.getInstance(instanceName);
  const ctx = base.clone();
  for (const pkg of dependencyOrder(instance.dependencies())) pkg.installEnv(ctx);
  await instance.configure(ctx);
  if (hook.endsWith('run')) await instance.prepareRun(ctx);
  const hooks = ctx.hooks[key];
  if (hooks.length === 0) ctx.log.info(`instance ${instance.name} has no ${hook} hooks`);
  for (const file of files) for (const fn of hooks) await fn(ctx, file);
}
