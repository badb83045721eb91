import { existsSync, readdirSync, renameSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  type CompileUnit,
  type Context,
  inParallel,
  makeDirectory,
  Package,
  type PkgConfigOption,
  run,
  unitInputs,
  upToDate,
  UserError,
  checkOptions,
} from '../api.js';
import type { LLVM } from './llvm.js';

/** Options of {@link RuntimeLibrary}. */
export interface RuntimeLibraryOptions {
  /** Library name: the package is `runtime-<name>` and builds `lib<name>.a`. */
  name: string;
  /** Directory with the `*.c` / `*.cpp` sources; relative paths are from the setup's root. */
  srcdir: string;
  /** Extra compile flags (e.g. `passes.runtimeCflags()` for NOINSTRUMENT). */
  cflags?: string[];
  /** Compile with this LLVM's clang; default the system `cc`/`c++`. */
  llvm?: LLVM;
}

/**
 * A static runtime library linked into instrumented programs (counters, shadow memory, ...).
 * Its sources are compiled without the instance's flags, so the runtime itself is never
 * instrumented; rebuilding is incremental (sources and included headers).
 *
 * The objects are combined into one (`cc -r`) that defines a marker symbol,
 * `__infra_runtime_<name>`, and the archive holds that one object. The link flag
 * `-Wl,-u,<marker>,<archive>` pulls it in whole wherever it stands on the link line (so
 * constructors and destructors are kept and the position of the flags does not matter), and a
 * second copy of the flag links nothing twice: the flag can be in both CFLAGS and LDFLAGS.
 * Identifier: `runtime-<name>`.
 */
export class RuntimeLibrary extends Package {
  readonly options: RuntimeLibraryOptions;

  constructor(options: RuntimeLibraryOptions) {
    super();
    checkOptions('RuntimeLibrary', options, { name: true, srcdir: true, cflags: true, llvm: true });
    if (!/^[A-Za-z0-9_-]+$/.test(options.name)) {
      throw new UserError(`RuntimeLibrary: name must be letters, digits, '_' or '-', got '${options.name}'`);
    }
    this.options = options;
  }

  ident(): string {
    return `runtime-${this.options.name}`;
  }

  override dependencies(): Package[] {
    return this.options.llvm ? [this.options.llvm] : [];
  }

  /** The library's source directory, absolute. */
  srcdir(ctx: Context): string {
    return resolve(ctx.paths.root, this.options.srcdir);
  }

  /** build/packages/runtime-<name>/install/lib/lib<name>.a */
  libraryPath(ctx: Context): string {
    return this.path(ctx, 'install', 'lib', `lib${this.options.name}.a`);
  }

  private units(ctx: Context): CompileUnit[] {
    const src = this.srcdir(ctx);
    if (!existsSync(src)) throw new UserError(`runtime library sources not found: ${src} (srcdir of ${this.ident()})`);
    return readdirSync(src)
      .filter((f) => /\.(c|cc|cpp)$/.test(f))
      .sort()
      .map((f) => ({ source: join(src, f), object: this.path(ctx, 'obj', f.replace(/\.\w+$/, '.o')) }));
  }

  /** The one object the archive holds: every source's object, combined. */
  private combinedObject(ctx: Context): string {
    return this.path(ctx, 'obj', `lib${this.options.name}.o`);
  }

  /** The symbol the combined object defines, which the link flag asks the linker for. */
  markerSymbol(): string {
    return `__infra_runtime_${this.options.name.replace(/-/g, '_')}`;
  }

  private current(ctx: Context, archive: string): boolean {
    if (!existsSync(this.srcdir(ctx)) || !existsSync(this.combinedObject(ctx))) return false;
    const units = this.units(ctx);
    return units.length > 0 && units.every((u) => upToDate(u.object, unitInputs(u)) && upToDate(archive, [u.object]));
  }

  isFetched(ctx: Context): boolean {
    return existsSync(this.srcdir(ctx));
  }
  fetch(ctx: Context): void {
    throw new UserError(`runtime library sources not found: ${this.srcdir(ctx)} (srcdir of ${this.ident()})`);
  }
  isBuilt(ctx: Context): boolean {
    return this.current(ctx, this.path(ctx, 'obj', `lib${this.options.name}.a`));
  }
  isInstalled(ctx: Context): boolean {
    return this.current(ctx, this.libraryPath(ctx));
  }

  async build(ctx: Context): Promise<void> {
    const units = this.units(ctx);
    if (units.length === 0) throw new UserError(`no C or C++ sources in ${this.srcdir(ctx)} (runtime library ${this.options.name})`);
    const llvm = this.options.llvm;
    const cc = llvm ? llvm.tool(ctx, 'clang') : 'cc';
    const cxx = llvm ? llvm.tool(ctx, 'clang++') : 'c++';
    makeDirectory(ctx, this.path(ctx, 'obj'));
    const stale = units.filter((u) => !upToDate(u.object, unitInputs(u)));
    await inParallel(ctx.jobs, stale, async (u) => {
      const compiler = u.source.endsWith('.c') ? cc : cxx;
      await run(ctx, [
        compiler,
        '-O2',
        '-g',
        '-fPIC',
        ...(this.options.cflags ?? []),
        '-MMD',
        '-MF',
        u.object.replace(/\.o$/, '.d'),
        '-c',
        u.source,
        '-o',
        u.object,
      ]);
    });
    const combined = this.combinedObject(ctx);
    await run(ctx, [cc, '-r', '-nostdlib', `-Wl,--defsym=${this.markerSymbol()}=0`, ...units.map((u) => u.object), '-o', combined]);
    const archive = this.path(ctx, 'obj', `lib${this.options.name}.a`);
    await run(ctx, ['rm', '-f', archive]);
    await run(ctx, [llvm ? llvm.tool(ctx, 'llvm-ar') : 'ar', 'rcs', archive, combined]);
  }

  async install(ctx: Context): Promise<void> {
    const dest = this.libraryPath(ctx);
    makeDirectory(ctx, dirname(dest));
    await run(ctx, ['cp', this.path(ctx, 'obj', basename(dest)), dest + '.tmp']);
    if (!ctx.dryRun) renameSync(dest + '.tmp', dest);
  }

  /** The link flag that pulls in the whole library, anywhere on the link line, at most once. */
  linkFlag(ctx: Context): string {
    return `-Wl,-u,${this.markerSymbol()},${this.libraryPath(ctx)}`;
  }

  /**
   * Links the library into every binary the target builds (call from an instance's or target's
   * configure), and adds it to `ctx.buildInputs` so that targets relink when it changes.
   *
   * The link flag goes into ldflags and also into cflags/cxxflags: code compiled with the
   * instance's flags calls the runtime, and build systems link some programs with CFLAGS only
   * (`$(CC) $(CFLAGS) -o tool tool.c`, as sqlite's Makefile builds its code generators). Compile-only commands ignore it; with clang it is wrapped
   * in `--start-no-unused-arguments ... --end-no-unused-arguments`, so they do so silently.
   */
  configure(ctx: Context): void {
    const flag = this.linkFlag(ctx);
    if (!ctx.ldflags.includes(flag)) ctx.ldflags.push(flag);
    // LLVM's configure records the toolchain; gcc ignores -Wl flags when not linking anyway
    if (ctx.extra.llvm !== undefined) ctx.addCFlag('--start-no-unused-arguments', flag, '--end-no-unused-arguments');
    else ctx.addCFlag(flag);
    // a rebuilt library must be linked again into the binaries that contain it
    const lib = this.libraryPath(ctx);
    if (!ctx.buildInputs.includes(lib)) ctx.buildInputs.push(lib);
  }

  override pkgConfigOptions(ctx: Context): PkgConfigOption[] {
    return [
      { option: '--lib', description: `path of lib${this.options.name}.a`, value: this.libraryPath(ctx) },
      { option: '--ldflags', description: 'flags that link the whole library', value: [this.linkFlag(ctx)] },
      ...super.pkgConfigOptions(ctx),
    ];
  }
}
