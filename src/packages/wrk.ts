import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Context, makeJobs, requireProgram, run, SourcePackage, type SourceDirs, type SourceOptions } from '../api.js';
import { RELEASES } from './releases.js';

/**
 * wrk, the HTTP load generator (`new Wrk('4.1.0')`), identifier `wrk-<version>`: puts `wrk` on
 * PATH, so a web-server target that depends on it measures with this build rather than the
 * system's. Upstream's tarball bundles LuaJIT and OpenSSL; Debian's wrk_4.1.0.orig.tar.gz is
 * a repack without them, pinned here (the Debian archive's file, a stable public URL whose bytes
 * we verified), so it is built against the system's (Debian: `apt-get install luajit
 * libluajit-5.1-dev libssl-dev`).
 */
export class Wrk extends SourcePackage {
  constructor(version: string, options?: SourceOptions) {
    super('wrk', version, RELEASES.wrk, options);
  }
  installedFiles(): string[] {
    return ['bin/wrk'];
  }
  // wrk's Makefile builds in its source tree (obj/ there), so the build runs in a copy
  protected async compile(ctx: Context, { src, obj }: SourceDirs): Promise<void> {
    requireProgram(ctx, 'luajit', 'install it with: apt-get install luajit libluajit-5.1-dev');
    if (!ctx.dryRun) await cp(src, obj, { recursive: true });
    // Debian keeps LuaJIT's headers in a directory of their own, which the Makefile has no variable for
    const vars = ['WITH_LUAJIT=/usr', 'WITH_OPENSSL=/usr', `VER=${this.version}`];
    await run(ctx, ['make', ...makeJobs(ctx), ...vars], { cwd: obj, env: { C_INCLUDE_PATH: '/usr/include/luajit-2.1' } });
  }
  protected async installTo(ctx: Context, { obj, prefix }: SourceDirs, destdir: string): Promise<void> {
    if (ctx.dryRun) return;
    const bin = join(destdir, prefix, 'bin');
    await mkdir(bin, { recursive: true });
    await cp(join(obj, 'wrk'), join(bin, 'wrk'));
  }
}
