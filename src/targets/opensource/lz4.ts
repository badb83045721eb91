import type { ProgramDescription } from '../program.js';
import { compressorWorkloads } from '../workloads.js';

/** lz4 1.9.4 (GitHub release archive); Debian's lz4_1.9.4.orig.tar.gz is this file byte for byte. */
export const lz4: ProgramDescription = {
  name: 'lz4',
  version: '1.9.4',
  source: {
    url: 'https://github.com/lz4/lz4/archive/refs/tags/v1.9.4.tar.gz',
    file: 'lz4-1.9.4.tar.gz',
    sha256: '0b0e3aa07c8c063ddf40b082bdf7e37a1562bda40a0ff5272957f3e987e0e54b',
  },
  defaultCflags: ['-O3'],
  build: {
    kind: 'make',
    dir: 'programs',
    targets: ['lz4'],
    variables: (t) => ({ CC: t.cc, CFLAGS: t.cflags, LDFLAGS: t.ldflags, AR: t.ar }),
  },
  binaries: { lz4: 'programs/lz4' },
  workloads: compressorWorkloads({
    // high-compression mode (-9): the fast modes would need gigabytes of input to run for seconds
    bytes: { test: 2 << 20, train: 5 << 20, ref: 24 << 20 },
    suffix: '.lz4',
    compress: (bin, input) => ({ argv: [bin.lz4!, '-q', '-9', '-f', input, `${input}.lz4`], output: `${input}.lz4` }),
    decompress: (bin, input) => {
      const output = input.replace(/\.lz4$/, '');
      return { argv: [bin.lz4!, '-q', '-d', '-f', input, output], output };
    },
  }).filter((w) => w.name === 'compress'),
};
