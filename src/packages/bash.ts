import { AutotoolsPackage, type SourceOptions } from '../api.js';
import { RELEASES } from './releases.js';

/**
 * GNU Bash (`new Bash('5.2.15')`), identifier `bash-<version>`: puts `bash` on PATH for
 * everything built after it. Upstream publishes bash-5.2.tar.gz and separate patches; Debian's
 * bash_5.2.15.orig.tar.gz is that release with patches 1 to 15 applied, not an upstream file, so
 * 5.2.15 is pinned to the Debian archive's file, a stable public URL whose bytes we verified.
 */
export class Bash extends AutotoolsPackage {
  constructor(version: string, options?: SourceOptions) {
    super('bash', version, RELEASES.bash, options);
  }
  installedFiles(): string[] {
    return ['bin/bash'];
  }
  protected override configureArgs(): string[] {
    return ['--disable-nls', '--without-bash-malloc'];
  }
}
