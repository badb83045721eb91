import { AutotoolsPackage, type MakeStep } from '../api.js';
import { RELEASES } from './releases.js';
import type { BootstrappedOptions } from './autotools.js';

/**
 * GNU Make (`new Make('4.3')`), identifier `make-<version>`: puts `make` on PATH. Upstream's
 * make-4.3.tar.gz carries a manual under the GFDL, so Debian repacks it (make-dfsg 4.3: the
 * manual and the generated configure script removed); 4.3 is pinned to the Debian archive's
 * file, a stable public URL whose bytes we verified. Its configure script is generated with
 * autoreconf, and only the program is built and installed.
 */
export class Make extends AutotoolsPackage {
  constructor(version: string, options: BootstrappedOptions = {}) {
    super('make', version, RELEASES.make, options, [options.autotools]);
  }
  installedFiles(): string[] {
    return ['bin/make'];
  }
  protected override bootstrap(): string[][] {
    return [
      // the repack lists Makefile twice in place of the removed doc/Makefile; autoconf 2.71 refuses that
      ['sed', '-i', 's|po/Makefile.in Makefile |po/Makefile.in |', 'configure.ac'],
      // the gettext files autopoint would copy are in the tarball already
      ['env', 'AUTOPOINT=true', 'autoreconf', '-fi'],
    ];
  }
  protected override configureArgs(): string[] {
    return ['--disable-nls', '--without-guile'];
  }
  // the repack has no manual page, which `make all` would install
  protected override makeSteps(): MakeStep[] {
    return [{ dir: 'lib' }, { targets: ['make'] }];
  }
  protected override installSteps(): MakeStep[] {
    return [{ targets: ['install-binPROGRAMS'] }];
  }
}
