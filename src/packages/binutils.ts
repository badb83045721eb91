import { AutotoolsPackage, type Context, type PkgConfigOption, type SourceOptions } from '../api.js';
import { RELEASES } from './releases.js';

export interface BinUtilsOptions extends SourceOptions {
  /** Also build the gold linker (`ld.gold`); default true. Adds `-gold` to the identifier. */
  gold?: boolean;
}

/**
 * GNU Binutils (`new BinUtils('2.40', { gold: true })`), identifier `binutils-<version>[-gold]`:
 * puts `ld`, `as`, `objdump`, ... (and `ld.gold`) on PATH for everything built after it, with
 * linker plugins enabled (LTO). Debian repacks binutils-2.40.tar.xz (its
 * binutils_2.40.orig.tar.xz is not upstream's file byte for byte), so 2.40 is pinned to the
 * Debian archive's file, a stable public URL whose bytes we verified. Only binutils is
 * configured (no gdb, sim, gprofng, documentation or translations).
 */
export class BinUtils extends AutotoolsPackage {
  readonly gold: boolean;
  constructor(version: string, options: BinUtilsOptions = {}) {
    super('binutils', version, RELEASES.binutils, options);
    this.gold = options.gold ?? true;
  }
  override ident(): string {
    return super.ident() + (this.gold ? '-gold' : '');
  }
  installedFiles(): string[] {
    return ['bin/ld', 'bin/as', 'bin/objdump', ...(this.gold ? ['bin/ld.gold'] : [])];
  }
  protected override configureArgs(): string[] {
    return [
      this.gold ? '--enable-gold' : '--disable-gold',
      '--enable-plugins',
      '--disable-gdb',
      '--disable-gdbserver',
      '--disable-sim',
      '--disable-gprofng',
      '--disable-nls',
      '--disable-werror',
    ];
  }
  // the manuals ship prebuilt; never regenerate them
  protected override makeVariables(): string[] {
    return ['MAKEINFO=true'];
  }
  /** Links the target with this package's gold (`-fuse-ld=gold` from its bin directory). */
  configure(ctx: Context): void {
    for (const f of [`-B${this.prefix(ctx, 'bin')}`, ...(this.gold ? ['-fuse-ld=gold'] : [])])
      if (!ctx.ldflags.includes(f)) ctx.ldflags.push(f);
  }
  override pkgConfigOptions(ctx: Context): PkgConfigOption[] {
    return [
      { option: '--bindir', description: 'directory of ld, as, ld.gold', value: this.prefix(ctx, 'bin') },
      ...super.pkgConfigOptions(ctx),
    ];
  }
}
