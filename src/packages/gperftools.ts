import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  AutotoolsPackage,
  type Awaitable,
  checkOptions,
  type Context,
  type MakeStep,
  Package,
  type PkgConfigOption,
  type SourceOptions,
  UserError,
} from '../api.js';
import { RELEASES } from './releases.js';
import type { AutoMake } from './autotools.js';
import type { LibUnwind } from './libunwind.js';

export interface GperftoolsOptions extends SourceOptions {
  /**
   * Build this release from source (identifier `gperftools-<version>`), e.g. `'2.10'`; another
   * version or a commit's archive needs `url` and `sha256`. Without it, the distribution's
   * tcmalloc is used (identifier `gperftools-system`).
   */
  version?: string;
  /** Unwind stacks (for the heap profiler) with this libunwind; default: frame pointers. */
  libunwind?: LibUnwind;
  /** The autotools that generate the configure script; default `autoreconf` on PATH. */
  autotools?: AutoMake;
  /** System tcmalloc only: directories searched for libtcmalloc.so; default the usual lib dirs. */
  libdirs?: string[];
}

/**
 * tcmalloc, used by `Clang({ alloc: 'tcmalloc' })` (set the instance's `gperftools` to choose
 * which). `new Gperftools()` is the distribution's (Debian: `apt-get install
 * libgoogle-perftools-dev`); `new Gperftools({ version: '2.10', libunwind, patches })` builds
 * it from source, so a patched allocator can be measured. {@link configure} links it either way.
 */
export class Gperftools extends Package {
  private readonly libdirs: string[];
  private readonly source: GperftoolsBuild | undefined;

  constructor(options: GperftoolsOptions = {}) {
    super();
    checkOptions('Gperftools', options, {
      libdirs: true,
      version: true,
      libunwind: true,
      autotools: true,
      url: true,
      sha256: true,
      patches: true,
    });
    this.libdirs = options.libdirs ?? [
      '/usr/lib/x86_64-linux-gnu',
      '/usr/lib/aarch64-linux-gnu',
      '/usr/lib64',
      '/usr/lib',
      '/usr/local/lib',
    ];
    this.source = options.version === undefined ? undefined : new GperftoolsBuild(options.version, options);
  }

  ident(): string {
    return this.source?.ident() ?? 'gperftools-system';
  }

  override dependencies(): Package[] {
    return this.source?.dependencies() ?? [];
  }

  /** Directory containing libtcmalloc.so, or undefined when the system has none. */
  libdir(ctx?: Context): string | undefined {
    if (this.source) return this.source.prefix(this.need(ctx), 'lib');
    return this.libdirs.find((d) => existsSync(join(d, 'libtcmalloc.so')));
  }

  // the system variant needs no context (callers may ask before there is one)
  isFetched(ctx?: Context): boolean {
    if (!this.source) return this.libdir() !== undefined;
    return this.source.isFetched(this.need(ctx));
  }
  async fetch(ctx: Context): Promise<void> {
    await (this.source ?? this.fail()).fetch(ctx);
  }
  isBuilt(ctx: Context): boolean {
    return this.source ? this.source.isBuilt(ctx) : this.isFetched(ctx);
  }
  async build(ctx: Context): Promise<void> {
    await (this.source ?? this.fail()).build(ctx);
  }
  isInstalled(ctx?: Context): boolean {
    return this.source ? this.source.isInstalled(this.need(ctx)) : this.isFetched();
  }
  async install(ctx: Context): Promise<void> {
    // the distribution installed it: only check that it did
    if (this.source) await this.source.install(ctx);
    else if (this.libdir() === undefined) this.fail();
  }
  override isClean(ctx: Context): Awaitable<boolean> {
    // the distribution owns its files
    return this.source ? super.isClean(ctx) : true;
  }
  override async clean(ctx: Context): Promise<void> {
    if (this.source) await super.clean(ctx);
  }
  override installEnv(ctx: Context): void {
    this.source?.installEnv(ctx);
  }

  /**
   * Links tcmalloc (`-L`/`-l`, and `-I` of its headers when built from source) and stops the
   * compiler from treating malloc/free as builtins (so calls are not optimized away around the
   * replaced allocator).
   */
  configure(ctx: Context): void {
    const libdir = this.libdir(ctx) ?? this.fail();
    for (const fn of ['malloc', 'calloc', 'realloc', 'free']) ctx.addCFlag(`-fno-builtin-${fn}`);
    if (this.source) ctx.addCFlag(`-I${this.source.prefix(ctx, 'include')}`);
    // kept even where the linker defaults to --as-needed and LDFLAGS come before the objects
    const rpath = this.source ? `,-rpath,${libdir}` : '';
    const link = `-Wl,--push-state,--no-as-needed,-L${libdir}${rpath},-ltcmalloc,--pop-state`;
    if (!ctx.ldflags.includes(link)) ctx.ldflags.push(link);
    const so = join(libdir, 'libtcmalloc.so');
    if (!ctx.buildInputs.includes(so)) ctx.buildInputs.push(so);
  }

  override pkgConfigOptions(ctx: Context): PkgConfigOption[] {
    const libdir = this.libdir(ctx) ?? '';
    return [
      { option: '--libdir', description: 'directory of libtcmalloc.so', value: libdir },
      // the system's headers are on the compiler's default path
      { option: '--cflags', description: 'include flags', value: this.source ? this.source.cflags(ctx) : [] },
      {
        option: '--ldflags',
        description: 'flags that link tcmalloc',
        value: libdir ? [`-L${libdir}`, `-Wl,-rpath,${libdir}`, '-ltcmalloc'] : [],
      },
      { option: '--libs', description: 'the library to link', value: ['-ltcmalloc'] },
      ...super.pkgConfigOptions(ctx),
    ];
  }

  private need(ctx: Context | undefined): Context {
    if (!ctx) throw new Error(`${this.ident()}: a package built from source needs the context`);
    return ctx;
  }

  private fail(): never {
    throw new UserError(
      `tcmalloc is not installed (no libtcmalloc.so in ${this.libdirs.join(', ')}); ` +
        "install it with: apt-get install -y --no-install-recommends libgoogle-perftools-dev, or build it with new Gperftools({ version: '2.10' })",
    );
  }
}

/** The source build: only tcmalloc (with its heap profiler) and its headers. */
class GperftoolsBuild extends AutotoolsPackage {
  private readonly libunwind: LibUnwind | undefined;

  constructor(version: string, options: GperftoolsOptions) {
    super('gperftools', version, RELEASES.gperftools, options, [options.libunwind, options.autotools]);
    this.libunwind = options.libunwind;
  }
  installedFiles(): string[] {
    return ['lib/libtcmalloc.so', 'include/gperftools/tcmalloc.h'];
  }
  protected override bootstrap(): string[][] {
    return [['autoreconf', '-fi']];
  }
  protected override configureArgs(ctx: Context): string[] {
    const unwind = this.libunwind
      ? ['--enable-libunwind', `CPPFLAGS=-I${this.libunwind.prefix(ctx, 'include')}`, `LDFLAGS=${this.libunwind.ldflags(ctx).join(' ')}`]
      : ['--disable-libunwind', '--enable-frame-pointers'];
    return ['--disable-static', '--disable-cpu-profiler', '--disable-heap-checker', '--disable-debugalloc', ...unwind];
  }
  protected override makeSteps(): MakeStep[] {
    return [{ targets: ['libtcmalloc_minimal.la', 'libtcmalloc.la'] }];
  }
  protected override installSteps(): MakeStep[] {
    return [{ targets: ['install-libLTLIBRARIES', 'install-perftoolsincludeHEADERS', 'install-nodist_perftoolsincludeHEADERS'] }];
  }
}
