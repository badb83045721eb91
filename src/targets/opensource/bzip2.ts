import type { ProgramDescription } from '../program.js';
import { compressorWorkloads } from '../workloads.js';

/** bzip2 1.0.8; Debian's bzip2_1.0.8.orig.tar.gz is this file byte for byte. */
export const bzip2: ProgramDescription = {
  name: 'bzip2',
  version: '1.0.8',
  source: {
    url: 'https://sourceware.org/pub/bzip2/bzip2-1.0.8.tar.gz',
    sha256: 'ab5a03176ee106d3f0fa90e381da478ddae405918153cca248e682cd0c4a2269',
  },
  build: {
    kind: 'make',
    targets: ['bzip2'],
    variables: (t) => ({
      CC: t.cc,
      CFLAGS: `-Wall -Winline -D_FILE_OFFSET_BITS=64 ${t.cflags}`,
      LDFLAGS: t.ldflags,
      AR: t.ar,
      RANLIB: t.ranlib,
    }),
  },
  binaries: { bzip2: 'bzip2' },
  workloads: compressorWorkloads({
    bytes: { test: 2 << 20, train: 8 << 20, ref: 24 << 20 },
    decompressBytes: { test: 2 << 20, train: 6 << 20, ref: 64 << 20 },
    suffix: '.bz2',
    compress: (bin, input) => ({ argv: [bin.bzip2!, '-9', '-k', '-f', input], output: `${input}.bz2` }),
    decompress: (bin, input) => ({ argv: [bin.bzip2!, '-d', '-k', '-f', input], output: input.replace(/\.bz2$/, '') }),
  }),
};
