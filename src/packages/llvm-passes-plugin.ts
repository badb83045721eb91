import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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
  writeOutput,
} from '../api.js';
import type { LLVM } from './llvm.js';

/** The framework's pass sources and headers (passes/ next to src/ or dist/). */
export const PASSES_DIR = packageFile('passes');

/** Where the plugin is loaded (see {@link PassPlugin.configure}). */
export interface PassesConfigureOptions {
  /** Load the plugin in clang (`-fpass-plugin`, see {@link PassPlugin.configure}). Default true. */
  compileTime?: boolean;
  /** Load the plugin in lld during full LTO (implies `-flto -fuse-ld=lld`). Default false. */
  linkTime?: boolean;
}

/** How the sources of a pass plugin are compiled. */
export interface PassCompileOptions {
  /** Compile with `-O0 -g` instead of `-O2 -g`. */
  debug: boolean;
  /** Extra compiler flags for the pass sources. */
  cxxflags: string[];
}

/** The `*.cpp` files of a directory, sorted. */
export function cppSources(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpp'))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * What {@link LLVMPasses} and {@link BuiltinLLVMPasses} share: pass sources compiled against one
 * LLVM into objects under `obj/<group>/`, linked (with any static archives of passes, whole) into
 * one new-pass-manager plugin, `install/libpasses.so`, and the flags that load it.
 *
 * Rebuilding is incremental: an object is recompiled when its source or any header it includes
 * (from the compiler's dependency file) is newer, or when the flags changed; the plugin is
 * relinked only when an object or archive changed.
 */
export abstract class PassPlugin extends Package {
  readonly llvm: LLVM;
  protected readonly compile: PassCompileOptions;

  protected constructor(llvm: LLVM, compile: PassCompileOptions) {
    super();
    this.llvm = llvm;
    this.compile = compile;
  }

  override dependencies(): Package[] {
    return [this.llvm];
  }

  /** Sources by object group: `[group, files]`; objects go to `obj/<group>/<name>.o`. */
  protected abstract sourceGroups(ctx: Context): Array<[string, string[]]>;

  /** Include flags for the pass sources. */
  abstract includeFlags(ctx: Context): string[];

  /** Static archives of passes linked whole into the plugin (their registrations are static objects). */
  protected linkArchives(_ctx: Context): string[] {
    return [];
  }

  /** The plugin: build/packages/<ident>/install/libpasses.so. */
  pluginPath(ctx: Context): string {
    return this.path(ctx, 'install', 'libpasses.so');
  }

  /** build/packages/<ident>/obj (objects and dependency files). */
  objdir(ctx: Context): string {
    return this.path(ctx, 'obj');
  }

  /** CFLAGS for runtime libraries that use pass features (NOINSTRUMENT, DEBUG_MODULE_NAME). */
  runtimeCflags(_ctx?: Context): string[] {
    return [`-I${join(PASSES_DIR, 'runtime-include')}`];
  }

  /** Each pass source with the object it compiles to. */
  protected units(ctx: Context): CompileUnit[] {
    return this.sourceGroups(ctx).flatMap(([sub, files]) =>
      files.map((source) => ({ source, object: join(this.objdir(ctx), sub, basename(source, '.cpp') + '.o') })),
    );
  }

  /** `llvm-config --cxxflags` of the chosen LLVM, plus our own flags. */
  private async compileFlags(ctx: Context): Promise<string[]> {
    const cfg = await run(ctx, [this.llvm.tool(ctx, 'llvm-config'), '--cxxflags'], { silent: true });
    return [
      ...cfg.stdout.trim().split(/\s+/).filter(Boolean),
      '-fPIC',
      ...(this.compile.debug ? ['-O0', '-g'] : ['-O2', '-g']),
      ...this.includeFlags(ctx),
      ...this.compile.cxxflags,
    ];
  }

  private stamp(flags: string[], units: CompileUnit[]): string {
    return createHash('sha256')
      .update(JSON.stringify({ flags, objects: units.map((u) => u.object), llvm: this.llvm.ident() }))
      .digest('hex');
  }

  /** Objects whose source, headers or flags changed since they were compiled. */
  staleUnits(ctx: Context, units: CompileUnit[], stamp: string): CompileUnit[] {
    const stampFile = join(this.objdir(ctx), 'flags.sha256');
    const sameFlags = existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === stamp;
    return units.filter((u) => !sameFlags || !upToDate(u.object, unitInputs(u)));
  }

  /** What the plugin is linked from, one path a line (a change relinks it). */
  private linkList(ctx: Context, units: CompileUnit[]): string {
    return [...units.map((u) => u.object), ...this.linkArchives(ctx)].map((f) => f + '\n').join('');
  }

  /** Built when the linked plugin in obj/ is newer than every object's inputs. */
  isBuilt(ctx: Context): boolean {
    return this.isCurrent(ctx, join(this.objdir(ctx), 'libpasses.so'));
  }

  isInstalled(ctx: Context): boolean {
    return this.isCurrent(ctx, this.pluginPath(ctx));
  }

  /** Whether the plugin `so` is newer than every object, archive and their inputs. */
  protected isCurrent(ctx: Context, so: string): boolean {
    if (!existsSync(so) || !this.isFetched(ctx)) return false;
    const units = this.units(ctx);
    // a removed source file changes the list of objects linked into the plugin
    const listFile = join(this.objdir(ctx), 'objects.txt');
    if (!existsSync(listFile) || readFileSync(listFile, 'utf8') !== this.linkList(ctx, units)) return false;
    // a new source file (no object yet) or a changed source/header makes the plugin stale
    return (
      units.every((u) => upToDate(u.object, unitInputs(u)) && upToDate(so, [u.object])) &&
      this.linkArchives(ctx).every((a) => existsSync(a) && upToDate(so, [a]))
    );
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
    const list = this.linkList(ctx, units);
    const archives = this.linkArchives(ctx);
    const relink =
      !existsSync(listFile) || readFileSync(listFile, 'utf8') !== list || !existsSync(so) || !archives.every((a) => upToDate(so, [a]));
    if (stale.length > 0 || relink) {
      const ldflags = (await run(ctx, [this.llvm.tool(ctx, 'llvm-config'), '--ldflags'], { silent: true })).stdout
        .trim()
        .split(/\s+/)
        .filter(Boolean);
      const whole = archives.length > 0 ? ['-Wl,--whole-archive', ...archives, '-Wl,--no-whole-archive'] : [];
      ctx.log.info(`linking ${this.ident()}/libpasses.so`);
      await run(ctx, [cxx, '-shared', '-fPIC', ...units.map((u) => u.object), ...whole, '-o', so, ...ldflags]);
    }
    writeOutput(ctx, join(this.objdir(ctx), 'flags.sha256'), stamp + '\n');
    writeOutput(ctx, join(this.objdir(ctx), 'objects.txt'), list);
  }

  /** Copies a file of obj/ to install/ (copy, then rename over: a compiler that has the old one loaded keeps a valid file). */
  protected installFile(ctx: Context, name: string): void {
    const dest = this.path(ctx, 'install', name);
    if (ctx.dryRun) {
      process.stdout.write(`install ${join(this.objdir(ctx), name)} -> ${dest}\n`);
      return;
    }
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(join(this.objdir(ctx), name), dest + '.tmp');
    renameSync(dest + '.tmp', dest);
  }

  async install(ctx: Context): Promise<void> {
    this.installFile(ctx, 'libpasses.so');
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
