import { type Context, makeJobs, run, SourcePackage, type SourceDirs, type SourceOptions } from '../api.js';
import { RELEASES } from './releases.js';

/**
 * CMake (`new CMake('3.25.1')`), identifier `cmake-<version>`: puts `cmake` and `ctest` on PATH
 * for everything built after it. Built with its own bootstrap script (no cmake needed), without
 * OpenSSL, the GUI or the tests. 3.25.1 is pinned to the upstream tarball (Debian's orig tarball
 * is the same file).
 */
export class CMake extends SourcePackage {
  constructor(version: string, options?: SourceOptions) {
    super('cmake', version, RELEASES.cmake, options);
  }
  installedFiles(): string[] {
    return ['bin/cmake', 'bin/ctest'];
  }
  protected async compile(ctx: Context, { src, obj, prefix }: SourceDirs): Promise<void> {
    const options = ['-DCMAKE_USE_OPENSSL=OFF', '-DBUILD_TESTING=OFF', '-DBUILD_CursesDialog=OFF'];
    await run(ctx, [`${src}/bootstrap`, `--prefix=${prefix}`, `--parallel=${ctx.jobs}`, '--', ...options], { cwd: obj });
    await run(ctx, ['make', ...makeJobs(ctx)], { cwd: obj });
  }
  protected async installTo(ctx: Context, { obj }: SourceDirs, destdir: string): Promise<void> {
    await run(ctx, ['make', 'install', `DESTDIR=${destdir}`], { cwd: obj });
  }
}
