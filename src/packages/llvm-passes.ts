import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Context, UserError, checkOptions, type Package } from '../api.js';
import type { LLVM } from './llvm.js';
import { BuiltinLLVMPasses } from './llvm-passes-builtin.js';
import { cppSources, PASSES_DIR, PassPlugin } from './llvm-passes-plugin.js';

export { PASSES_DIR, type PassesConfigureOptions } from './llvm-passes-plugin.js';

/** Compiler wrappers of the sizeof-types pass, for C and C++ (see {@link LLVMPasses.useSizeofTypes}). */
export const SIZEOF_TYPES_CC = join(PASSES_DIR, 'sizeof-types', 'sizeof-cc.mjs');
/** The C++ compiler wrapper of the sizeof-types pass. */
export const SIZEOF_TYPES_CXX = join(PASSES_DIR, 'sizeof-types', 'sizeof-cxx.mjs');

/** Options of {@link LLVMPasses}. */
export interface LLVMPassesOptions {
  /** Directory with the pass sources (`*.cpp`, headers beside them); relative to the setup's root. */
  srcdir: string;
  /** Identifier suffix: the package is `llvm-passes-<name>`. */
  name: string;
  /**
   * Also put the built-in passes (dump-ir, custominline, sizeof-types, ...) into the plugin:
   * the package then depends on {@link BuiltinLLVMPasses} for the same LLVM and links its
   * static library whole, and the pass sources may include the built-in headers
   * (`builtin/Common.h`, `builtin/SizeofTypes.h`). Default false.
   */
  useBuiltins?: boolean;
  /** Compile with `-O0 -g` instead of `-O2 -g`. Default false. */
  debug?: boolean;
  /** Extra compiler flags for the pass sources. */
  cxxflags?: string[];
}

/** Extension points where selected passes run (see {@link LLVMPasses.runPasses}). */
export type PassPoint = 'start' | 'last' | 'lto';

/**
 * A set of LLVM passes compiled into one new-pass-manager plugin, `install/libpasses.so`,
 * against the given LLVM. Rebuilding is incremental: an object is recompiled when its source or
 * any header it includes (from the compiler's dependency file) is newer, or when the flags
 * changed; the plugin is relinked only when an object changed.
 *
 * Pass sources register their passes with `INFRA_MODULE_PASS("name", Class)` from
 * `infra/Registry.h`; the plugin then knows them for `opt -passes=name` and for
 * {@link runPasses}. With `useBuiltins` the built-in passes are linked in from
 * {@link BuiltinLLVMPasses} (a dependency). Identifier: `llvm-passes-<name>`.
 */
export class LLVMPasses extends PassPlugin {
  readonly options: Required<LLVMPassesOptions>;
  /** The built-in passes linked into the plugin, when `useBuiltins` is set. */
  readonly builtins: BuiltinLLVMPasses | undefined;

  constructor(llvm: LLVM, options: LLVMPassesOptions) {
    checkOptions('LLVMPasses', options, { srcdir: true, name: true, useBuiltins: true, debug: true, cxxflags: true });
    if (!/^[A-Za-z0-9._-]+$/.test(options.name)) {
      throw new UserError(`LLVMPasses: name must be letters, digits, '.', '_' or '-', got '${options.name}'`);
    }
    const all = { useBuiltins: false, debug: false, cxxflags: [], ...options };
    super(llvm, { debug: all.debug, cxxflags: all.cxxflags });
    this.options = all;
    this.builtins = all.useBuiltins ? new BuiltinLLVMPasses(llvm) : undefined;
  }

  ident(): string {
    return `llvm-passes-${this.options.name}`;
  }

  override dependencies(): Package[] {
    return this.builtins ? [this.llvm, this.builtins] : [this.llvm];
  }

  /** The user's pass source directory, absolute. */
  srcdir(ctx: Context): string {
    return resolve(ctx.paths.root, this.options.srcdir);
  }

  /** Include flags for pass sources (framework headers such as infra/Registry.h, builtin/Common.h). */
  includeFlags(ctx: Context): string[] {
    return [`-I${join(PASSES_DIR, 'include')}`, `-I${this.srcdir(ctx)}`];
  }

  protected sourceGroups(ctx: Context): Array<[string, string[]]> {
    const src = this.srcdir(ctx);
    if (!existsSync(src)) throw new UserError(`LLVM pass sources not found: ${src} (srcdir of ${this.ident()})`);
    return [
      ['plugin', cppSources(join(PASSES_DIR, 'plugin'))],
      ['user', cppSources(src)],
    ];
  }

  protected override linkArchives(ctx: Context): string[] {
    return this.builtins ? [this.builtins.archivePath(ctx)] : [];
  }

  isFetched(ctx: Context): boolean {
    return existsSync(this.srcdir(ctx));
  }

  fetch(ctx: Context): void {
    throw new UserError(`LLVM pass sources not found: ${this.srcdir(ctx)} (srcdir of ${this.ident()})`);
  }

  override async build(ctx: Context): Promise<void> {
    if (this.builtins && !existsSync(this.builtins.archivePath(ctx))) {
      throw new UserError(
        `${this.ident()} links the built-in passes, but ${this.builtins.ident()} is not installed: ` +
          `build it first (infra pkg-build ${this.builtins.ident()}), or build through a target or instance that depends on ${this.ident()}`,
      );
    }
    await super.build(ctx);
  }

  /**
   * Runs registered passes (in this order) at an extension point: `start` (before optimization,
   * compile time), `last` (after optimization, compile time) or `lto` (early in full LTO, in lld).
   */
  static runPasses(ctx: Context, point: PassPoint, ...names: string[]): void {
    const option = `-infra-${point}-passes=${names.join(',')}`;
    if (point === 'lto') LLVMPasses.addLinkTimeOptions(ctx, option);
    else LLVMPasses.addCompileTimeOptions(ctx, option);
  }

  /**
   * Options for passes at compile time (the plugin's own `cl::opt`s, or LLVM's), in
   * cflags/cxxflags as `-Xclang=-mllvm -Xclang=<opt>`. They reach only the compiler proper,
   * which loads the plugin ({@link configure}); the integrated assembler (`.S` and `.s`
   * sources), which does not, never sees them, as it would see `-mllvm <opt>`.
   */
  static addCompileTimeOptions(ctx: Context, ...options: string[]): void {
    for (const o of options) ctx.addCFlag('-Xclang=-mllvm', `-Xclang=${o}`);
  }

  /**
   * Options for passes in lld. lld reads `-mllvm` before it loads plugins, so options the
   * plugin defines go through the `INFRA_LTO_OPTIONS` environment variable of the build
   * (`ctx.runenv`), which the plugin reads when LTO starts. Options LLVM itself defines can
   * also be given as `-Wl,-mllvm,<opt>` with {@link LLVM.addLinkTimeOptions}.
   */
  static addLinkTimeOptions(ctx: Context, ...options: string[]): void {
    const cur = ctx.runenv.INFRA_LTO_OPTIONS;
    const words = (Array.isArray(cur) ? cur.join(' ') : (cur ?? '')).split(' ').filter(Boolean);
    for (const o of options) if (!words.includes(o)) words.push(o);
    ctx.runenv.INFRA_LTO_OPTIONS = words.join(' ');
  }

  /**
   * Types heap allocations with the built-in sizeof-types pass (`!infra.sizeof.type` on each
   * malloc/calloc/realloc call whose size has a sizeof): compiles through its wrapper, which runs
   * the compilers configured so far (`ctx.cc`/`ctx.cxx` become {@link SIZEOF_TYPES_CC} /
   * {@link SIZEOF_TYPES_CXX}), and runs the pass at the start of the pipeline. Call after the
   * compiler is configured, with a plugin that has the built-ins loaded ({@link configure}).
   */
  static useSizeofTypes(ctx: Context): void {
    if (ctx.cc !== SIZEOF_TYPES_CC) {
      ctx.runenv.INFRA_SIZEOF_CC = ctx.cc;
      ctx.runenv.INFRA_SIZEOF_CXX = ctx.cxx;
      ctx.cc = SIZEOF_TYPES_CC;
      ctx.cxx = SIZEOF_TYPES_CXX;
    }
    LLVMPasses.runPasses(ctx, 'start', 'sizeof-types');
    // the wrappers decide what the pass sees (the side table of sizeof types)
    for (const f of [SIZEOF_TYPES_CC, SIZEOF_TYPES_CXX]) if (!ctx.buildInputs.includes(f)) ctx.buildInputs.push(f);
  }
}
