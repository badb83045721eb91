import { AutotoolsPackage, type Context, type PkgConfigOption, type SourceOptions } from '../api.js';
import { RELEASES } from './releases.js';

/**
 * The Apache Portable Runtime (`new APR('1.7.2')`), identifier `apr-<version>`: libapr-1 and its
 * headers (`include/apr-1`), `apr-1-config` on PATH. `pkg-config apr-1.7.2 --cflags --ldflags
 * --libs` give the flags, `--config` the apr-1-config script (what httpd's and APR-util's
 * `--with-apr` take). 1.7.2 is pinned to upstream's apr-1.7.2.tar.bz2; Debian's
 * apr_1.7.2.orig.tar.bz2 is byte-identical to it (its sha256 is the one Homebrew and others pin
 * for the file from archive.apache.org).
 */
export class APR extends AutotoolsPackage {
  constructor(version: string, options?: SourceOptions) {
    super('apr', version, RELEASES.apr, options);
  }
  installedFiles(): string[] {
    return ['bin/apr-1-config', 'lib/libapr-1.so', 'include/apr-1/apr.h'];
  }
  protected override configureArgs(): string[] {
    return ['--disable-static'];
  }
  /** The apr-1-config script. */
  config(ctx: Context): string {
    return this.prefix(ctx, 'bin', 'apr-1-config');
  }
  /** `-I` of the headers, and the feature macros APR's headers are used with on Linux. */
  override cflags(ctx: Context): string[] {
    return [`-I${this.prefix(ctx, 'include', 'apr-1')}`, '-D_GNU_SOURCE', '-D_REENTRANT', '-pthread'];
  }
  override pkgConfigOptions(ctx: Context): PkgConfigOption[] {
    return [
      { option: '--config', description: 'the apr-1-config script', value: this.config(ctx) },
      ...this.libraryPkgConfig(ctx, ['apr-1']),
    ];
  }
}

/**
 * The APR utility library (`new APRUtil('1.6.3', apr)`), identifier `apr-util-<version>`,
 * built against the given {@link APR}: libaprutil-1 (with the system's expat for its XML
 * parser: Debian `libexpat1-dev`; no database, LDAP or crypto drivers) and `apu-1-config`.
 * `pkg-config apr-util-1.6.3 --cflags --ldflags --libs --config` as for APR. 1.6.3 is pinned to
 * upstream's apr-util-1.6.3.tar.bz2; Debian's apr-util_1.6.3.orig.tar.bz2 is byte-identical to it (the same check).
 */
export class APRUtil extends AutotoolsPackage {
  readonly apr: APR;
  constructor(version: string, apr: APR, options?: SourceOptions) {
    super('apr-util', version, RELEASES.aprUtil, options, [apr]);
    this.apr = apr;
  }
  installedFiles(): string[] {
    return ['bin/apu-1-config', 'lib/libaprutil-1.so', 'include/apr-1/apu.h'];
  }
  protected override configureArgs(ctx: Context): string[] {
    const without = [
      'sqlite3',
      'sqlite2',
      'pgsql',
      'mysql',
      'odbc',
      'oracle',
      'ldap',
      'berkeley-db',
      'gdbm',
      'ndbm',
      'crypto',
      'openssl',
      'nss',
    ];
    return ['--disable-static', `--with-apr=${this.apr.config(ctx)}`, '--with-expat=/usr', ...without.map((w) => `--without-${w}`)];
  }
  /** The apu-1-config script. */
  config(ctx: Context): string {
    return this.prefix(ctx, 'bin', 'apu-1-config');
  }
  override cflags(ctx: Context): string[] {
    return [`-I${this.prefix(ctx, 'include', 'apr-1')}`];
  }
  override pkgConfigOptions(ctx: Context): PkgConfigOption[] {
    return [
      { option: '--config', description: 'the apu-1-config script', value: this.config(ctx) },
      ...this.libraryPkgConfig(ctx, ['aprutil-1']),
    ];
  }
}
