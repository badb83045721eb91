import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkOptions, type Context, type PkgConfigOption, removePath, run, upToDate } from '../api.js';
import type { LLVM } from './llvm.js';
import { cppSources, PASSES_DIR, PassPlugin } from './llvm-passes-plugin.js';

/** Options of {@link BuiltinLLVMPasses}. */
export interface BuiltinLLVMPassesOptions {
  /** Extra compiler flags for the built-in pass sources. */
  cxxflags?: string[];
}

/**
 * The framework's built-in passes (passes/builtin: dump-ir, custominline, defer-global-init,
 * expand-const-global-uses, sizeof-types) compiled once against one LLVM, for use without passes
 * of your own: `configure(ctx)` loads its plugin `install/libpasses.so` exactly as
 * {@link LLVMPasses.configure} does, and {@link LLVMPasses.runPasses} selects passes by name.
 *
 * It also installs `install/libpasses-builtin.a`, the built-in passes without the plugin's entry
 * point, which an `LLVMPasses({ useBuiltins: true })` depends on and links whole into its own
 * plugin, so the built-ins are compiled once however many pass sets use them.
 *
 * `infra pkg-config llvm-passes-builtin-<version>` answers, besides `--root`/`--prefix`/`--objdir`/`--plugin`:
 * `--cxxflags`, the include flags for passes of your own that use the built-in analyses and
 * headers (`builtin/Common.h`, `builtin/SizeofTypes.h`, `infra/Registry.h`), and
 * `--runtime-cflags`, those for runtime libraries using pass helpers (`noinstrument.h`).
 *
 * Identifier: `llvm-passes-builtin-<llvm version>`.
 */
export class BuiltinLLVMPasses extends PassPlugin {
  constructor(llvm: LLVM, options: BuiltinLLVMPassesOptions = {}) {
    checkOptions('BuiltinLLVMPasses', options, { cxxflags: true });
    super(llvm, { debug: false, cxxflags: options.cxxflags ?? [] });
  }

  ident(): string {
    return `llvm-passes-builtin-${this.llvm.version}`;
  }

  /** The static library of the built-in passes: install/libpasses-builtin.a. */
  archivePath(ctx: Context): string {
    return this.path(ctx, 'install', 'libpasses-builtin.a');
  }

  /** Include flags for passes using the built-in headers (infra/Registry.h, builtin/*.h). */
  includeFlags(_ctx?: Context): string[] {
    return [`-I${join(PASSES_DIR, 'include')}`];
  }

  protected sourceGroups(): Array<[string, string[]]> {
    return [
      ['plugin', cppSources(join(PASSES_DIR, 'plugin'))],
      ['builtin', cppSources(join(PASSES_DIR, 'builtin'))],
    ];
  }

  /** The framework's own sources: shipped with it, never fetched. */
  isFetched(): boolean {
    return true;
  }

  fetch(): void {}

  private objArchive(ctx: Context): string {
    return join(this.objdir(ctx), 'libpasses-builtin.a');
  }

  private builtinObjects(ctx: Context): string[] {
    return this.units(ctx)
      .filter((u) => u.object.startsWith(join(this.objdir(ctx), 'builtin') + '/'))
      .map((u) => u.object);
  }

  private archiveCurrent(ctx: Context, archive: string): boolean {
    return existsSync(archive) && upToDate(archive, this.builtinObjects(ctx));
  }

  override isBuilt(ctx: Context): boolean {
    return super.isBuilt(ctx) && this.archiveCurrent(ctx, this.objArchive(ctx));
  }

  override isInstalled(ctx: Context): boolean {
    return super.isInstalled(ctx) && this.archiveCurrent(ctx, this.archivePath(ctx));
  }

  override async build(ctx: Context): Promise<void> {
    await super.build(ctx);
    const archive = this.objArchive(ctx);
    if (this.archiveCurrent(ctx, archive)) return;
    // written anew, so objects of removed sources do not stay in it
    removePath(ctx, archive);
    ctx.log.info(`archiving ${this.ident()}/libpasses-builtin.a`);
    await run(ctx, [this.llvm.tool(ctx, 'llvm-ar'), 'rcs', archive, ...this.builtinObjects(ctx)]);
  }

  override async install(ctx: Context): Promise<void> {
    await super.install(ctx);
    this.installFile(ctx, 'libpasses-builtin.a');
  }

  override pkgConfigOptions(ctx: Context): PkgConfigOption[] {
    return [
      {
        option: '--archive',
        description: 'path of libpasses-builtin.a (the built-ins without the plugin entry point)',
        value: this.archivePath(ctx),
      },
      ...super.pkgConfigOptions(ctx),
    ];
  }
}
