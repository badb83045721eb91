import { AutotoolsPackage, type Context, type MakeStep, type PkgConfigOption, type SourceOptions } from '../api.js';
import { RELEASES } from './releases.js';

/**
 * libelf from elfutils (`new LibElf('0.188')`), identifier `libelf-<version>`: the library and
 * its headers (libelf.h, gelf.h, nlist.h), on LD_LIBRARY_PATH for everything built after it;
 * `pkg-config --cflags/--ldflags/--libs` give the flags to use it, {@link configure} adds them
 * to a context. Only libelf is configured and built (no debuginfod, no compression libraries
 * besides zlib, which elfutils requires). 0.188 is pinned to the upstream tarball (Debian's orig
 * tarball is the same file).
 */
export class LibElf extends AutotoolsPackage {
  constructor(version: string, options?: SourceOptions) {
    super('libelf', version, RELEASES.libelf, options);
  }
  installedFiles(): string[] {
    return ['lib/libelf.so', 'include/libelf.h', 'include/gelf.h'];
  }
  protected override configureArgs(): string[] {
    return ['--disable-debuginfod', '--disable-libdebuginfod', '--disable-nls', '--without-bzlib', '--without-lzma', '--without-zstd'];
  }
  protected override makeSteps(): MakeStep[] {
    return [{ dir: 'lib' }, { dir: 'libelf' }];
  }
  protected override installSteps(): MakeStep[] {
    return [{ dir: 'libelf', targets: ['install'] }];
  }
  /** Compiles and links the target with this libelf (`-I`, `-L`, an rpath, `-lelf`). */
  configure(ctx: Context): void {
    this.linkLibraries(ctx, ['elf']);
  }
  override pkgConfigOptions(ctx: Context): PkgConfigOption[] {
    return this.libraryPkgConfig(ctx, ['elf']);
  }
}
