import { cp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AutotoolsPackage, type Context, type MakeStep, type PkgConfigOption, type SourceDirs, type SourceOptions } from '../api.js';
import { RELEASES } from './releases.js';

/** Options of a package whose configure script is generated from the release's configure.ac. */
export interface BootstrappedOptions extends SourceOptions {
  /**
   * The autotools that generate it (an {@link AutoMake} package, which brings its AutoConf and
   * LibTool); default: `autoreconf` on PATH (Debian: `apt-get install autoconf automake libtool`).
   */
  autotools?: AutoMake;
}

/**
 * GNU m4 (`new M4('1.4.19')`), identifier `m4-<version>`: puts `m4` on PATH for everything built
 * after it. 1.4.19 is pinned to the upstream tarball (Debian's orig tarball is the same file).
 */
export class M4 extends AutotoolsPackage {
  constructor(version: string, options?: SourceOptions) {
    super('m4', version, RELEASES.m4, options);
  }
  installedFiles(): string[] {
    return ['bin/m4'];
  }
  protected override configureArgs(): string[] {
    return ['--disable-nls'];
  }
  // the program only: its manual ships prebuilt, its tests are not built
  protected override makeSteps(): MakeStep[] {
    return [{ dir: 'lib' }, { dir: 'src' }];
  }
  protected override installSteps(): MakeStep[] {
    return [{ dir: 'src', targets: ['install'] }];
  }
}

/**
 * GNU Autoconf (`new AutoConf('2.71', m4)`), identifier `autoconf-<version>`, using the given
 * {@link M4}: puts `autoconf`, `autoreconf`, `autom4te`... on PATH. 2.71 is pinned to the
 * upstream tarball (Debian's orig tarball is the same file).
 */
export class AutoConf extends AutotoolsPackage {
  readonly m4: M4;
  constructor(version: string, m4: M4, options?: SourceOptions) {
    super('autoconf', version, RELEASES.autoconf, options, [m4]);
    this.m4 = m4;
  }
  installedFiles(): string[] {
    return ['bin/autoconf', 'bin/autoreconf', 'bin/autom4te'];
  }
  // the m4 autom4te runs is fixed when autoconf is configured
  protected override configureArgs(ctx: Context): string[] {
    return [`M4=${this.m4.prefix(ctx, 'bin', 'm4')}`];
  }
}

/**
 * GNU Libtool (`new LibTool('2.4.7')`), identifier `libtool-<version>`: puts `libtool` and
 * `libtoolize` on PATH and its macros on ACLOCAL_PATH. Debian's libtool_2.4.7.orig.tar.xz is a
 * repack (generated from the release's git tag, not upstream's libtool-2.4.7.tar.xz byte for
 * byte), so 2.4.7 is pinned to the Debian archive's file, a stable public URL whose bytes we
 * verified.
 */
export class LibTool extends AutotoolsPackage {
  constructor(version: string, options?: SourceOptions) {
    super('libtool', version, RELEASES.libtool, options);
  }
  installedFiles(): string[] {
    return ['bin/libtool', 'bin/libtoolize', 'share/aclocal/libtool.m4'];
  }
  /** Directory of libtool.m4, ltdl.m4 and their companions. */
  aclocalDir(ctx: Context): string {
    return this.prefix(ctx, 'share', 'aclocal');
  }
  override installEnv(ctx: Context): void {
    super.installEnv(ctx);
    ctx.prependPath('ACLOCAL_PATH', this.aclocalDir(ctx));
  }
  override pkgConfigOptions(ctx: Context): PkgConfigOption[] {
    return [
      { option: '--aclocal-dir', description: 'directory of the libtool macros', value: this.aclocalDir(ctx) },
      ...super.pkgConfigOptions(ctx),
    ];
  }
}

/**
 * GNU Automake (`new AutoMake('1.16.5', autoconf, libtool)`), identifier `automake-<version>`,
 * configured with the given {@link AutoConf}: puts `automake` and `aclocal` on PATH. With a
 * {@link LibTool}, its `.m4` files are installed into automake's own macro directory, so the
 * `aclocal` of this package finds `LT_INIT` without any search path. 1.16.5 is pinned to the
 * upstream tarball (Debian's orig tarball is the same file).
 */
export class AutoMake extends AutotoolsPackage {
  readonly autoconf: AutoConf;
  readonly libtool: LibTool | undefined;
  constructor(version: string, autoconf: AutoConf, libtool?: LibTool, options?: SourceOptions) {
    super('automake', version, RELEASES.automake, options, [autoconf, libtool]);
    this.autoconf = autoconf;
    this.libtool = libtool;
  }
  installedFiles(): string[] {
    return ['bin/automake', 'bin/aclocal', ...(this.libtool ? ['share/aclocal/libtool.m4'] : [])];
  }
  /** The directory aclocal reads third-party macros from (`aclocal --print-ac-dir`). */
  aclocalDir(ctx: Context): string {
    return this.prefix(ctx, 'share', 'aclocal');
  }
  protected override configureArgs(ctx: Context): string[] {
    const bin = (name: string) => this.autoconf.prefix(ctx, 'bin', name);
    return [`AUTOCONF=${bin('autoconf')}`, `AUTOM4TE=${bin('autom4te')}`];
  }
  protected override async installTo(ctx: Context, dirs: SourceDirs, destdir: string): Promise<void> {
    await super.installTo(ctx, dirs, destdir);
    if (!this.libtool || ctx.dryRun) return;
    // into the staged tree, so the macros appear together with automake
    const from = this.libtool.aclocalDir(ctx);
    const to = join(destdir, this.aclocalDir(ctx));
    for (const file of await readdir(from)) if (file.endsWith('.m4')) await cp(join(from, file), join(to, file));
  }
  override pkgConfigOptions(ctx: Context): PkgConfigOption[] {
    return [
      { option: '--aclocal-dir', description: "aclocal's macro directory", value: this.aclocalDir(ctx) },
      ...super.pkgConfigOptions(ctx),
    ];
  }
}
