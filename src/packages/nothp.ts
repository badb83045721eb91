import { existsSync, renameSync } from 'node:fs';
import { type Context, makeDirectory, Package, packageFile, type PkgConfigOption, run } from '../api.js';

const SOURCE = packageFile('runtime', 'nothp', 'nothp.c');

/**
 * Runs benchmarks with transparent huge pages disabled: builds a tiny `nothp` wrapper
 * (prctl(PR_SET_THP_DISABLE), inherited by children) and puts it in front of benchmark commands
 * through `ctx.targetRunWrapper`. The run command's `--nothp` does the same inside the
 * measurement helper; this package is for targets and instances that want it always.
 * Identifier: `nothp`.
 */
export class Nothp extends Package {
  ident(): string {
    return 'nothp';
  }
  /** The wrapper program: build/packages/nothp/install/bin/nothp. */
  wrapperPath(ctx: Context): string {
    return this.path(ctx, 'install', 'bin', 'nothp');
  }
  isFetched(): boolean {
    return true;
  }
  fetch(): void {}
  isBuilt(ctx: Context): boolean {
    return existsSync(this.path(ctx, 'obj', 'nothp'));
  }
  async build(ctx: Context): Promise<void> {
    makeDirectory(ctx, this.path(ctx, 'obj'));
    await run(ctx, ['cc', '-O2', '-o', this.path(ctx, 'obj', 'nothp'), SOURCE]);
  }
  isInstalled(ctx: Context): boolean {
    return existsSync(this.wrapperPath(ctx));
  }
  async install(ctx: Context): Promise<void> {
    makeDirectory(ctx, this.path(ctx, 'install', 'bin'));
    await run(ctx, ['cp', this.path(ctx, 'obj', 'nothp'), this.wrapperPath(ctx) + '.tmp']);
    if (!ctx.dryRun) renameSync(this.wrapperPath(ctx) + '.tmp', this.wrapperPath(ctx));
  }
  /** Puts the wrapper in front of every benchmark command (call from prepareRun or run). */
  configure(ctx: Context): void {
    const w = this.wrapperPath(ctx);
    if (!ctx.targetRunWrapper.includes(w)) ctx.targetRunWrapper.unshift(w);
  }
  override pkgConfigOptions(ctx: Context): PkgConfigOption[] {
    return [
      { option: '--wrapper', description: 'path of the nothp wrapper', value: this.wrapperPath(ctx) },
      ...super.pkgConfigOptions(ctx),
    ];
  }
}
