import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  type CompileUnit,
  type Context,
  inParallel,
  makeDirectory,
  Package,
  packageFile,
  type PkgConfigOption,
  run,
  unitInputs,
  upToDate,
  UserError,
  writeOutput,
  checkOptions,
} from '../api.js';
import type { LLVM } from './llvm.js';

/** The framework's pass sources and headers (passes/ next to src/ or dist/). */
export const PASSES_DIR = packageFile('passes');

/** Compiler wrappers of the sizeof-types pass, for C and C++ (see {@link LLVMPasses.useSizeofTypes}). */
export const SIZEOF_TYPES_CC = join(PASSES_DIR, 'sizeof-types', 'sizeof-cc.mjs');
export const SIZEOF_TYPES_CXX = join(PASSES_DIR, 'sizeof-types', 'sizeof-cxx.mjs');

export interface LLVMPassesOptions {
  /** Directory with the pass sources (`*.cpp`, headers beside them); relative to the setup's root. */
  srcdir: string;
  /** Identifier suffix: the package is `llvm-passes-<name>`. */
  name: string;
  /** Also compile the built-in passes (dump-ir, custominline, ...) into the plugin. Default false. */
  useBuiltins?: boolean;
  /** Compile with `-O0 -g` instead of `-O2 -g`. Default false. */
  debug?: boolean;
  /** Extra compiler flags for the pass sources. */
  cxxflags?: string[];
}

export interface PassesConfigureOptions {
  /** Load the plugin in clang (`-fpass-plugin`, see {@link LLVMPasses.configure}). Default true. */
  compileTime?: boolean;
  /** Load the plugin in lld during full LTO (implies `-flto -fuse-ld=lld`). Default false. */
  linkTime?: boolean;
}

/** Extension points where selected passes run (see {@link LLVMPasses.runPasses}). */
export type PassPoint = 'start' | 'last' | 'lto';

type Unit = CompileUnit;

/**
 * A set of LLVM passes compiled into one new-pass-manager plugin, `install/libpasses.so`,
 * against the given LLVM. Rebuilding is incremental: an object is recompiled when its source or
 * any header it includes (from the compiler's dependency file) is newer, or when the flags
 * changed; the plugin is relinked only when an object changed.
 *
 * Pass sources register their passes with `INFRA_MODULE_PASS("name", Class)` from
 * `infra/Registry.h`; the plugin then knows them for `opt -passes=name` and for
 * {@link runPasses}. Identifier: `llvm-passes-<name>`.
 */
export class LLVMPasses extends Package {
  readonly llvm: LLVM;
  readonly options: Required<LLVMPassesOptions>;

  constructor(llvm: LLVM, options: LLVMPassesOptions) {
    super();
    checkOptions('LLVMPasses', options, { srcdir: true, name: true, useBuiltins: true, debug: true, cxxflags: true });
    if (!/^[A-Za-z0-9._-]+$/.test(options.name)) {
      throw new UserError(`LLVMPasses: name must be letters, digits, '.', '_' or '-', got '${options.name}'`);
    }
    this.llvm = llvm;
    this.options = { useBuiltins: false, debug: false, cxxflags: [], ...options };
  }

  ident(): string {
    return `llvm-passes-${this.options.name}`;
  }

  override dependencies(): Package[] {
    return [this.llvm];
  }

  /** The user's pass source directory, absolute. */
  srcdir(ctx: Context): string {
    return resolve(ctx.paths.root, this.options.srcdir);
  }

  /** The plugin: build/packages/llvm-passes-<name>/install/libpasses.so. */
  pluginPath(ctx: Context): string {
    return this.path(ctx, 'install', 'libpasses.so');
  }

  /** build/packages/llvm-passes-<name>/obj (objects and dependency files). */
  objdir(ctx: Context): string {
    return this.path(ctx, 'obj');
  }

  /** Include flags for pass sources (framework headers such as infra/Registry.h, builtin/Common.h). */
  includeFlags(ctx: Context): string[] {
    return [`-I${join(PASSES_DIR, 'include')}`, `-I${this.srcdir(ctx)}`];
  }

  /** CFLAGS for runtime libraries that use pass features (NOINSTRUMENT, DEBUG_MODULE_NAME). */
  runtimeCflags(_ctx?: Context): string[] {
    return [`-I${join(PASSES_DIR, 'runtime-include')}`];
  }

  private units(ctx: Context): Unit[] {
    const src = this.srcdir(ctx);
    if (!existsSync(src)) throw new UserError(`LLVM pass sources not found: ${src} (srcdir of ${this.ident()})`);
    const list = (dir: string) =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.cpp'))
        .sort()
        .map((f) => join(dir, f));
    const groups: Array<[string, string[]]> = [
      ['plugin', list(join(PASSES_DIR, 'plugin'))],
      ['user', list(src)],
      ...(this.options.useBuiltins ? [['builtin', list(join(PASSES_DIR, 'builtin'))] as [string, string[]]] : []),
    ];
    return groups.flatMap(([sub, files]) =>
      files.map((source) => ({ source, object: join(this.objdir(ctx), sub, basename(source, '.cpp') + '.o') })),
    );
  }

  /** `llvm-config --cxxflags` of the chosen LLVM, plus our own flags. */
  private async compileFlags(ctx: Context): Promise<string[]> {
    const cfg = await run(ctx, [this.llvm.tool(ctx, 'llvm-config'), '--cxxflags'], { silent: true });
    return [
      ...cfg.stdout.trim().split(/\s+/).filter(Boolean),
      '-fPIC',
      ...(this.options.debug ? ['-O0', '-g'] : ['-O2', '-g']),
      ...this.includeFlags(ctx),
      ...this.options.cxxflags,
    ];
  }

  private stamp(flags: string[], units: Unit[]): string {
    return createHash('sha256')
      .update(JSON.stringify({ flags, objects: units.map((u) => u.object), llvm: this.llvm.ident() }))
      .digest('hex');
  }

  /** Objects whose source, headers or flags changed since they were compiled. */
  staleUnits(ctx: Context, units: Unit[], stamp: string): Unit[] {
    const stampFile = join(this.objdir(ctx), 'flags.sha256');
    const sameFlags = existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === stamp;
    return units.filter((u) => !sameFlags || !upToDate(u.object, unitInputs(u)));
  }

  isFetched(ctx: Context): boolean {
    return existsSync(this.srcdir(ctx));
  }

  fetch(ctx: Context): void {
    throw new UserError(`LLVM pass sources not found: ${this.srcdir(ctx)} (srcdir of ${this.ident()})`);
  }

  /** Built when the linked plugin in obj/ is newer than every object's inputs. */
  isBuilt(ctx: Context): boolean {
    return this.isCurrent(ctx, join(this.objdir(ctx), 'libpasses.so'));
  }

  isInstalled(ctx: Context): boolean {
    return this.isCurrent(ctx, this.pluginPath(ctx));
  }

  private isCurrent(ctx: Context, so: string): boolean {
    if (!existsSync(so) || !existsSync(this.srcdir(ctx))) return false;
    const units = this.units(ctx);
    // a removed source file changes the list of objects linked into the plugin
    const listFile = join(this.objdir(ctx), 'objects.txt');
    if (!existsSync(listFile) || readFileSync(listFile, 'utf8') !== objectList(units)) return false;
    // a new source file (no object yet) or a changed source/header makes the plugin stale
    return units.every((u) => upToDate(u.object, unitInputs(u)) && upToDate(so, [u.object]));
  }

  async build(ctx: Context): Promise<void> {
    const units = this.units(ctx);
    const flags = await this.compileFlags(ctx);
    const stamp = this.stamp(flags, units);
    const stale = this.staleUnits(ctx, units, stamp);
    const cxx = this.llvm.tool(ctx, 'clang++');
    await inParallel(ctx.jobs, stale, async (u) => {
      makeDirectory(ctx, dirname(u.object));
      ctx.log.info(`compiling ${basename(u.source)} (${this.ident()})`);
      await run(ctx, [cxx, ...flags, '-MMD', '-MF', u.object.replace(/\.o$/, '.d'), '-c', u.source, '-o', u.object]);
    });
    const so = join(this.objdir(ctx), 'libpasses.so');
    const listFile = join(this.objdir(ctx), 'objects.txt');
    const relink = !existsSync(listFile) || readFileSync(listFile, 'utf8') !== objectList(units);
    if (stale.length > 0 || relink || !existsSync(so)) {
      const ldflags = (await run(ctx, [this.llvm.tool(ctx, 'llvm-config'), '--ldflags'], { silent: true })).stdout
        .trim()
        .split(/\s+/)
        .filter(Boolean);
      ctx.log.info(`linking ${this.ident()}/libpasses.so`);
      await run(ctx, [cxx, '-shared', '-fPIC', ...units.map((u) => u.object), '-o', so, ...ldflags]);
    }
    writeOutput(ctx, join(this.objdir(ctx), 'flags.sha256'), stamp + '\n');
    writeOutput(ctx, join(this.objdir(ctx), 'objects.txt'), objectList(units));
  }

  async install(ctx: Context): Promise<void> {
    const dest = this.pluginPath(ctx);
    if (ctx.dryRun) {
      process.stdout.write(`install ${join(this.objdir(ctx), 'libpasses.so')} -> ${dest}\n`);
      return;
    }
    mkdirSync(join(dest, '..'), { recursive: true });
    // copy then rename, so a compiler that has the old plugin loaded keeps a valid file
    copyFileSync(join(this.objdir(ctx), 'libpasses.so'), dest + '.tmp');
    renameSync(dest + '.tmp', dest);
  }

  /**
   * Loads the plugin: at compile time in cflags/cxxflags, as one group
   * `-fpass-plugin=<so> -Xclang=-load -Xclang=<so>`; at link time
   * `-flto -fuse-ld=lld -Wl,--load-pass-plugin=<so>` (full LTO, so the linker sees all code).
   *
   * `-fpass-plugin` makes clang run the plugin's passes; `-Xclang=-load` makes the compiler
   * proper (`clang -cc1`) load it before it parses LLVM options, so the options the plugin
   * defines are known there (clang 19 parses `-mllvm` before loading `-fpass-plugin` plugins).
   * The joined `-Xclang=` form keeps each flag one word, which libtool passes on unchanged (it
   * would take a separate `-load` for a library).
   */
  configure(ctx: Context, options: PassesConfigureOptions = {}): void {
    const so = this.pluginPath(ctx);
    // a rebuilt plugin changes what the compiler emits, so targets rebuild when it changes
    if (!ctx.buildInputs.includes(so)) ctx.buildInputs.push(so);
    if (options.compileTime ?? true) ctx.addCFlag(`-fpass-plugin=${so}`, '-Xclang=-load', `-Xclang=${so}`);
    if (options.linkTime) {
      ctx.addCFlag('-flto');
      for (const f of ['-flto', '-fuse-ld=lld', `-Wl,--load-pass-plugin=${so}`]) if (!ctx.ldflags.includes(f)) ctx.ldflags.push(f);
      ctx.addLibLdflag('-flto');
    }
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

  override pkgConfigOptions(ctx: Context): PkgConfigOption[] {
    return [
      { option: '--plugin', description: 'path of libpasses.so', value: this.pluginPath(ctx) },
      { option: '--cxxflags', description: 'include flags for pass sources', value: this.includeFlags(ctx) },
      { option: '--runtime-cflags', description: 'flags for runtime libraries using pass helpers', value: this.runtimeCflags(ctx) },
      { option: '--objdir', description: 'build directory (objects, dependency files)', value: this.objdir(ctx) },
      ...super.pkgConfigOptions(ctx),
    ];
  }
}

function objectList(units: Unit[]): string {
  return units.map((u) => u.object + '\n').join('');
}
