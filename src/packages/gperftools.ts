import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Context, Package, type PkgConfigOption, UserError, checkOptions } from '../api.js';

export interface GperftoolsOptions {
  /** Directories searched for libtcmalloc.so; default the usual multiarch and plain lib dirs. */
  libdirs?: string[];
}

/**
 * tcmalloc from the distribution (Debian: `apt-get install libgoogle-perftools-dev`), used by
 * `Clang({ alloc: 'tcmalloc' })`. Identifier: `gperftools-system`. Building gperftools from
 * source is not supported; give a custom package with the same `configure` to do so.
 */
export class Gperftools extends Package {
  private readonly libdirs: string[];

  constructor(options: GperftoolsOptions = {}) {
    super();
    checkOptions('Gperftools', options, { libdirs: true });
    this.libdirs = options.libdirs ?? [
      '/usr/lib/x86_64-linux-gnu',
      '/usr/lib/aarch64-linux-gnu',
      '/usr/lib64',
      '/usr/lib',
      '/usr/local/lib',
    ];
  }

  ident(): string {
    return 'gperftools-system';
  }

  /** Directory containing libtcmalloc.so, or undefined when not installed. */
  libdir(): string | undefined {
    return this.libdirs.find((d) => existsSync(join(d, 'libtcmalloc.so')));
  }

  isFetched(): boolean {
    return this.libdir() !== undefined;
  }
  fetch(): void {
    this.fail();
  }
  isBuilt(): boolean {
    return this.isFetched();
  }
  build(): void {
    this.fail();
  }
  isInstalled(): boolean {
    return this.isFetched();
  }
  install(): void {
    this.fail();
  }
  override isClean(): boolean {
    return true;
  }
  override async clean(): Promise<void> {}

  /**
   * Links tcmalloc and stops the compiler from treating malloc/free as builtins (so calls are
   * not optimized away around the replaced allocator).
   */
  configure(ctx: Context): void {
    const libdir = this.libdir();
    if (!libdir) this.fail();
    for (const fn of ['malloc', 'calloc', 'realloc', 'free']) ctx.addCFlag(`-fno-builtin-${fn}`);
    // kept even where the linker defaults to --as-needed and LDFLAGS come before the objects
    const link = `-Wl,--push-state,--no-as-needed,-L${libdir},-ltcmalloc,--pop-state`;
    if (!ctx.ldflags.includes(link)) ctx.ldflags.push(link);
    const so = join(libdir, 'libtcmalloc.so');
    if (!ctx.buildInputs.includes(so)) ctx.buildInputs.push(so);
  }

  override pkgConfigOptions(ctx: Context): PkgConfigOption[] {
    return [{ option: '--libdir', description: 'directory of libtcmalloc.so', value: this.libdir() ?? '' }, ...super.pkgConfigOptions(ctx)];
  }

  private fail(): never {
    throw new UserError(
      `tcmalloc is not installed (no libtcmalloc.so in ${this.libdirs.join(', ')}); ` +
        'install it with: apt-get install -y --no-install-recommends libgoogle-perftools-dev',
    );
  }
}
