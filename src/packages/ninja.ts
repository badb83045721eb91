import { type Context, makeJobs, type Package, run, SourcePackage, type SourceDirs, type SourceOptions } from '../api.js';
import { RELEASES } from './releases.js';

export interface NinjaOptions extends SourceOptions {
  /** A CMake package to build with; default `cmake` on PATH. */
  cmake?: Package;
}

/**
 * Ninja (`new Ninja('1.11.1')`), identifier `ninja-<version>`: puts `ninja` on PATH. The release
 * is GitHub's archive of the tag (Debian's orig tarball is that file). Built with cmake and make
 * (so it shares the build's job slots) rather than its own bootstrap script, which compiles
 * everything twice.
 */
export class Ninja extends SourcePackage {
  constructor(version: string, options: NinjaOptions = {}) {
    super('ninja', version, RELEASES.ninja, options, [options.cmake]);
  }
  installedFiles(): string[] {
    return ['bin/ninja'];
  }
  protected async compile(ctx: Context, { src, obj, prefix }: SourceDirs): Promise<void> {
    const defines = ['-DCMAKE_BUILD_TYPE=Release', '-DBUILD_TESTING=OFF', `-DCMAKE_INSTALL_PREFIX=${prefix}`];
    await run(ctx, ['cmake', '-G', 'Unix Makefiles', '-S', src, '-B', obj, ...defines], { cwd: obj });
    await run(ctx, ['make', ...makeJobs(ctx), 'ninja'], { cwd: obj });
  }
  protected async installTo(ctx: Context, { obj }: SourceDirs, destdir: string): Promise<void> {
    await run(ctx, ['cmake', '--install', obj], { cwd: obj, env: { DESTDIR: destdir } });
  }
}
