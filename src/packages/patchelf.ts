import { AutotoolsPackage, type MakeStep } from '../api.js';
import { RELEASES } from './releases.js';
import type { BootstrappedOptions } from './autotools.js';

/**
 * patchelf (`new PatchElf('0.14.3')`), identifier `patchelf-<version>`: puts `patchelf` on PATH,
 * to change the interpreter and rpath of built binaries. The release is GitHub's archive of the
 * tag (Debian's orig tarball is that file), which has no configure script: it is generated with
 * autoreconf.
 */
export class PatchElf extends AutotoolsPackage {
  constructor(version: string, options: BootstrappedOptions = {}) {
    super('patchelf', version, RELEASES.patchelf, options, [options.autotools]);
  }
  installedFiles(): string[] {
    return ['bin/patchelf'];
  }
  protected override bootstrap(): string[][] {
    return [['autoreconf', '-fi']];
  }
  protected override makeSteps(): MakeStep[] {
    return [{ dir: 'src' }];
  }
  protected override installSteps(): MakeStep[] {
    return [{ dir: 'src', targets: ['install'] }];
  }
}
