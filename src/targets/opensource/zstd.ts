import type { ProgramDescription } from '../program.js';
import { compressorWorkloads } from '../workloads.js';

/**
 * zstd 1.5.4. Debian repacks the upstream tarball (1.5.4+dfsg2: a few non-free test files
 * removed), so it is not byte-identical to upstream's zstd-1.5.4.tar.gz; we pin the Debian
 * archive's orig tarball, a stable public URL whose bytes we verified. The library and the
 * command-line program are unchanged by the repack.
 */
export const zstd: ProgramDescription = {
  name: 'zstd',
  version: '1.5.4',
  source: {
    url: 'http://deb.debian.org/debian/pool/main/libz/libzstd/libzstd_1.5.4+dfsg2.orig.tar.xz',
    sha256: '8cf4bbb65e77ec348d052c8d6230eba66d435bddf64c8b5be2fcb16880c19953',
  },
  defaultCflags: ['-O3'],
  build: {
    kind: 'cmake',
    sourceDir: 'build/cmake',
    targets: ['zstd'],
    defines: {
      ZSTD_BUILD_SHARED: 'OFF',
      ZSTD_BUILD_TESTS: 'OFF',
      ZSTD_LEGACY_SUPPORT: 'OFF',
      // one thread and no optional codecs: the same program on every machine
      ZSTD_MULTITHREAD_SUPPORT: 'OFF',
      ZSTD_ZLIB_SUPPORT: 'OFF',
      ZSTD_LZMA_SUPPORT: 'OFF',
      ZSTD_LZ4_SUPPORT: 'OFF',
    },
  },
  buildRequires: ['cmake'],
  binaries: { zstd: 'programs/zstd' },
  workloads: compressorWorkloads({
    bytes: { test: 2 << 20, train: 6 << 20, ref: 24 << 20 },
    suffix: '.zst',
    compress: (bin, input) => ({ argv: [bin.zstd!, '-q', '-12', '-f', input, '-o', `${input}.zst`], output: `${input}.zst` }),
    decompress: (bin, input) => {
      const output = input.replace(/\.zst$/, '');
      return { argv: [bin.zstd!, '-q', '-d', '-f', input, '-o', output], output };
    },
  }).filter((w) => w.name === 'compress'),
};
