import { cp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AutotoolsPackage, type Context, type Package, type PkgConfigOption, type SourceDirs, type SourceOptions } from '../api.js';

const GNU = 'https://ftp.gnu.org/gnu';

/**
 * GNU m4 (`new M4('1.4.19')`), identifier `m4-<version>`: puts `m4` on PATH for everything built
 * after it. 1.4.19 is pinned to the upstream tarball (Debian's orig tarball is the same file).
 */
export class M4 extends AutotoolsPackage {
  constructor(version: string, options?: SourceOptions) {
    super(
      'm4',
      version,
      { '1.4.19': { url: `${GNU}/m4/m4-1.4.19.tar.xz`, sha256: '63aede5c6d33b6d9b13511cd0be2cac046f2e70fd0a07aa9573a04a82783af96' } },
      options,
    );
  }
  installedFiles(): string[] {
    return ['bin/m4'];
  }
  protected override configureArgs(): string[] {
    return ['--disable-nls'];
  }
  // the program only: its manual ships prebuilt, its tests are not built
  protected override makeDirs(): string[] {
    return ['lib', 'src'];
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
    super(
      'autoconf',
      version,
      {
        '2.71': { url: `${GNU}/autoconf/autoconf-2.71.tar.gz`, sha256: '431075ad0bf529ef13cb41e9042c542381103e80015686222b8a9d4abef42a1c' },
      },
      options,
    );
    this.m4 = m4;
  }
  override dependencies(): Package[] {
    return [this.m4];
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
    super(
      'libtool',
      version,
      {
        '2.4.7': {
          url: 'http://deb.debian.org/debian/pool/main/libt/libtool/libtool_2.4.7.orig.tar.xz',
          sha256: 'dd637e270439b208907ceead3f163470ed2ce5723ef97ffbda6463c64b57128a',
        },
      },
      options,
    );
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
    super(
      'automake',
      version,
      {
        '1.16.5': {
          url: `${GNU}/automake/automake-1.16.5.tar.xz`,
          sha256: 'f01d58cd6d9d77fbdca9eb4bbd5ead1988228fdb73d6f7a201f5f8d6b118b469',
        },
      },
      options,
    );
    this.autoconf = autoconf;
    this.libtool = libtool;
  }
  override dependencies(): Package[] {
    return [this.autoconf, ...(this.libtool ? [this.libtool] : [])];
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
