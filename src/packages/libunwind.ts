import { AutotoolsPackage, type Context, type PkgConfigOption, type SourceOptions } from '../api.js';
import { RELEASES } from './releases.js';

/**
 * libunwind (`new LibUnwind('1.6.2')`), identifier `libunwind-<version>`: the library and its
 * headers, on LD_LIBRARY_PATH and PKG_CONFIG_PATH (libunwind.pc) for everything built after it;
 * `pkg-config --cflags/--ldflags/--libs` give the flags, {@link configure} adds them to a
 * context. Built without its tests, manual pages and the coredump/ptrace/setjmp libraries.
 * 1.6.2 is pinned to the upstream tarball (Debian's orig tarball is the same file).
 */
export class LibUnwind extends AutotoolsPackage {
  constructor(version: string, options?: SourceOptions) {
    super('libunwind', version, RELEASES.libunwind, options);
  }
  installedFiles(): string[] {
    return ['lib/libunwind.so', 'include/libunwind.h'];
  }
  protected override configureArgs(): string[] {
    return [
      '--disable-tests',
      '--disable-documentation',
      '--disable-coredump',
      '--disable-ptrace',
      '--disable-setjmp',
      '--disable-minidebuginfo',
      '--disable-zlibdebuginfo',
    ];
  }
  /** Compiles and links the target with this libunwind (`-I`, `-L`, an rpath, `-lunwind`). */
  configure(ctx: Context): void {
    this.linkLibraries(ctx, ['unwind']);
  }
  override pkgConfigOptions(ctx: Context): PkgConfigOption[] {
    return this.libraryPkgConfig(ctx, ['unwind']);
  }
}
