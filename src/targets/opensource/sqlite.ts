import type { ProgramDescription } from '../program.js';
import { expectedOutputWorkload } from '../workloads.js';

/**
 * SQLite 3.40.1 with its speedtest1 benchmark. Upstream publishes the full source tree only as
 * a zip (sqlite-src-3400100.zip); Debian's sqlite3_3.40.1.orig.tar.xz is a repack of that tree
 * as a tarball, so we pin the Debian archive's file, a stable public URL whose bytes we
 * verified. Building speedtest1 generates the amalgamation, which needs tclsh.
 *
 * The code generators the build compiles and runs (mksourceid, mkkeywordhash, lemon: `BCC` in
 * its Makefile, the compiler with CFLAGS) are built with the instance's compiler but without its
 * flags: they are not part of the benchmark, and instrumented they would carry the
 * instrumentation's runtime, whose report on stderr makes tclsh's `exec` of mksourceid fail.
 */
export const sqlite: ProgramDescription = {
  name: 'sqlite',
  version: '3.40.1',
  // the amalgamation, one translation unit of 250,000 lines, compiles on one core for minutes
  buildWeight: 10,
  source: {
    url: 'http://deb.debian.org/debian/pool/main/s/sqlite3/sqlite3_3.40.1.orig.tar.xz',
    sha256: 'aaa776260ab4dc976db34aa7891819484c8676b5b2783123ebc6301e2ca5d655',
  },
  build: {
    kind: 'configure',
    configureArgs: ['--disable-tcl', '--disable-readline', '--disable-shared'],
    targets: ['speedtest1'],
    makeVariables: (t) => ({ BCC: `${t.cc} -O2` }),
  },
  buildRequires: ['tclsh', 'make'],
  binaries: { speedtest1: 'speedtest1' },
  workloads: [
    expectedOutputWorkload({
      name: 'speedtest1',
      description: 'speedtest1 on an in-memory database; verified by its result hash',
      argv: (bin, size) => [bin.speedtest1!, '--size', ({ test: '10', train: '25', ref: '100' } as const)[size], '--memdb', '--verify'],
      expect: {
        test: ['Verification Hash: 1770470 19f033c0ab47f9479fc13174d106795176c427658861a74b'],
        train: ['Verification Hash: 5023208 ed0917c807661e420b1e89d9398a5a5984abccaf5ad8f397'],
        ref: ['Verification Hash: 23674002 573a4409d3d2efb9a2072aff97c6cefa6111b1b90cc7a0ef'],
      },
    }),
  ],
};
