import { AutotoolsPackage, type SourceOptions } from '../api.js';
import { RELEASES } from './releases.js';

/**
 * GNU Coreutils (`new CoreUtils('9.1')`), identifier `coreutils-<version>`: puts `ls`, `cat`,
 * `sort`, ... on PATH for everything built after it. 9.1 is pinned to the upstream tarball
 * (Debian's orig tarball is the same file).
 */
export class CoreUtils extends AutotoolsPackage {
  constructor(version: string, options?: SourceOptions) {
    super('coreutils', version, RELEASES.coreutils, options);
  }
  installedFiles(): string[] {
    return ['bin/ls', 'bin/cat', 'bin/sort'];
  }
  protected override configureArgs(): string[] {
    return ['--disable-nls'];
  }
  // its configure refuses to run as root (as in containers and CI) unless told it is fine
  protected override configureEnv(): Record<string, string> {
    return { FORCE_UNSAFE_CONFIGURE: '1' };
  }
}
