import { packageFile } from '../../api.js';
import type { ProgramDescription } from '../program.js';
import { expectedOutputWorkload } from '../workloads.js';

/** Lua scripts bundled with the framework (benchmarks/lua). */
const SCRIPTS = packageFile('benchmarks', 'lua') + '/';

/** Lua 5.4.4; Debian's lua5.4_5.4.4.orig.tar.gz is this file byte for byte. */
export const lua: ProgramDescription = {
  name: 'lua',
  version: '5.4.4',
  source: {
    url: 'https://www.lua.org/ftp/lua-5.4.4.tar.gz',
    sha256: '164c7849653b80ae67bec4b7473b884bf5cc8d2dca05653475ec2ed27b9ebf61',
  },
  build: {
    kind: 'make',
    dir: 'src',
    targets: ['lua'],
    // the variables of `make linux`, with the instance's compiler and flags
    variables: (t) => ({
      CC: `${t.cc} -std=gnu99`,
      CFLAGS: `-Wall -Wextra -DLUA_COMPAT_5_3 -DLUA_USE_LINUX ${t.cflags}`,
      LDFLAGS: t.ldflags,
      LIBS: '-lm -Wl,-E -ldl',
      AR: `${t.ar} rcu`,
      RANLIB: t.ranlib,
    }),
  },
  binaries: { lua: 'src/lua' },
  workloads: [
    expectedOutputWorkload({
      name: 'fib',
      description: 'naive recursive Fibonacci (calls, integer arithmetic)',
      argv: (bin, size) => [bin.lua!, `${SCRIPTS}fib.lua`, ({ test: '27', train: '35', ref: '38' } as const)[size]],
      expect: { test: ['fib(27) = 196418'], train: ['fib(35) = 9227465'], ref: ['fib(38) = 39088169'] },
    }),
    expectedOutputWorkload({
      name: 'sort',
      description: 'table.sort with a comparator and a merge sort written in Lua',
      argv: (bin, size) => [bin.lua!, `${SCRIPTS}sort.lua`, ({ test: '100000', train: '350000', ref: '1200000' } as const)[size]],
      expect: {
        test: ['sorted 100000 checksum 220591215'],
        train: ['sorted 350000 checksum 4122799075'],
        ref: ['sorted 1200000 checksum 3146525969'],
      },
    }),
    expectedOutputWorkload({
      name: 'strings',
      description: 'string building, formatting, gsub and pattern matching',
      argv: (bin, size) => [bin.lua!, `${SCRIPTS}strings.lua`, ({ test: '5000', train: '14000', ref: '64000' } as const)[size]],
      expect: {
        test: [
          'words 200000 hash 940240135',
          'ALPHA=25091 BETA=24913 DELTA=24943 EPSILON=25007 ETA=24873 GAMMA=25057 THETA=24994 ZETA=25122',
        ],
        train: [
          'words 560000 hash 4219962491',
          'ALPHA=69967 BETA=70049 DELTA=69942 EPSILON=70071 ETA=69993 GAMMA=70008 THETA=69994 ZETA=69976',
        ],
        ref: [
          'words 2560000 hash 2484297181',
          'ALPHA=320081 BETA=319910 DELTA=319941 EPSILON=319999 ETA=319882 GAMMA=320065 THETA=319996 ZETA=320126',
        ],
      },
    }),
  ],
};
