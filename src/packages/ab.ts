import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Context, run, SourcePackage, type SourceDirs, type SourceOptions, writeOutput } from '../api.js';
import type { APR, APRUtil } from './apr.js';
import { RELEASES } from './releases.js';

/**
 * ApacheBench, Apache httpd's HTTP load generator (`new ApacheBench('2.4.68', apr, aprUtil)`),
 * identifier `ab-<httpd version>`: `support/ab.c` of the httpd release compiled against the
 * given {@link APR} and {@link APRUtil} and put on PATH, so a web server target that depends
 * on it (`uses: [ab]`) measures with `--client ab` using this build. Built without TLS: only
 * ab itself is compiled, not httpd (whose configure step needs PCRE), with an empty
 * `ap_config_auto.h` in place of the one httpd's configure would write. 2.4.68 is pinned to
 * upstream's httpd-2.4.68.tar.gz; Debian's apache2_2.4.68.orig.tar.gz is byte-identical to it
 * (its sha256 is the one published with the release and pinned by other build recipes).
 */
export class ApacheBench extends SourcePackage {
  readonly apr: APR;
  readonly aprUtil: APRUtil;
  constructor(httpdVersion: string, apr: APR, aprUtil: APRUtil, options?: SourceOptions) {
    super('httpd', httpdVersion, RELEASES.httpd, options, [apr, aprUtil]);
    this.apr = apr;
    this.aprUtil = aprUtil;
  }
  override ident(): string {
    return `ab-${this.version}`;
  }
  installedFiles(): string[] {
    return ['bin/ab'];
  }
  protected async compile(ctx: Context, { src, obj }: SourceDirs): Promise<void> {
    writeOutput(ctx, join(obj, 'ap_config_auto.h'), '/* ab alone: no TLS, no httpd configure */\n');
    const libs = ['-laprutil-1', '-lapr-1', '-lm'];
    await run(ctx, [
      ctx.cc,
      '-O2',
      `-I${obj}`,
      `-I${join(src, 'include')}`,
      ...this.apr.cflags(ctx),
      ...this.aprUtil.cflags(ctx),
      join(src, 'support', 'ab.c'),
      '-o',
      join(obj, 'ab'),
      ...this.aprUtil.ldflags(ctx),
      ...this.apr.ldflags(ctx),
      ...libs,
    ]);
  }
  protected async installTo(ctx: Context, { obj, prefix }: SourceDirs, destdir: string): Promise<void> {
    if (ctx.dryRun) return;
    const bin = join(destdir, prefix, 'bin');
    await mkdir(bin, { recursive: true });
    await copyFile(join(obj, 'ab'), join(bin, 'ab'));
  }
}
