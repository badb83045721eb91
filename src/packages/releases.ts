import type { PackageSource } from '../api.js';

/**
 * The releases of the built-in source packages whose checksums are known, by package and version.
 * Each is the upstream release file, checked against the sha256 upstream (or the distributions
 * that package it) publish, except where Debian's orig tarball is a repack: then the Debian
 * archive's file is pinned, a stable public URL whose bytes we verified (see each package).
 * `scripts/fetch-sources.sh` fills an offline mirror with all of them.
 */
export const RELEASES = {
  m4: {
    '1.4.19': {
      url: 'https://ftp.gnu.org/gnu/m4/m4-1.4.19.tar.xz',
      sha256: '63aede5c6d33b6d9b13511cd0be2cac046f2e70fd0a07aa9573a04a82783af96',
    },
  },
  autoconf: {
    '2.71': {
      url: 'https://ftp.gnu.org/gnu/autoconf/autoconf-2.71.tar.gz',
      sha256: '431075ad0bf529ef13cb41e9042c542381103e80015686222b8a9d4abef42a1c',
    },
  },
  automake: {
    '1.16.5': {
      url: 'https://ftp.gnu.org/gnu/automake/automake-1.16.5.tar.xz',
      sha256: 'f01d58cd6d9d77fbdca9eb4bbd5ead1988228fdb73d6f7a201f5f8d6b118b469',
    },
  },
  // Debian's orig tarball: a repack (generated from the release's git tag)
  libtool: {
    '2.4.7': {
      url: 'http://deb.debian.org/debian/pool/main/libt/libtool/libtool_2.4.7.orig.tar.xz',
      sha256: 'dd637e270439b208907ceead3f163470ed2ce5723ef97ffbda6463c64b57128a',
    },
  },
  patchelf: {
    '0.14.3': {
      url: 'https://github.com/NixOS/patchelf/archive/0.14.3.tar.gz',
      sha256: '827a8ca914c69413f1ca0d967a637980a24edf000a938531a77e663317c853bb',
    },
  },
  // Debian's orig tarball: a repack without the GFDL manual and the generated configure script
  make: {
    '4.3': {
      url: 'http://deb.debian.org/debian/pool/main/m/make-dfsg/make-dfsg_4.3.orig.tar.gz',
      sha256: 'be4c17542578824e745f83bcd2a9ba264206187247cb6a5f5df99b0a9d1f9047',
    },
  },
  ninja: {
    '1.11.1': {
      url: 'https://github.com/ninja-build/ninja/archive/refs/tags/v1.11.1.tar.gz',
      sha256: '31747ae633213f1eda3842686f83c2aa1412e0f5691d1c14dbbcc67fe7400cea',
    },
  },
  libelf: {
    '0.188': {
      url: 'https://sourceware.org/elfutils/ftp/0.188/elfutils-0.188.tar.bz2',
      sha256: 'fb8b0e8d0802005b9a309c60c1d8de32dd2951b56f0c3a3cb56d21ce01595dff',
    },
  },
  libunwind: {
    '1.6.2': {
      url: 'https://github.com/libunwind/libunwind/releases/download/v1.6.2/libunwind-1.6.2.tar.gz',
      sha256: '4a6aec666991fb45d0889c44aede8ad6eb108071c3554fcdff671f9c94794976',
    },
  },
  // Debian's orig tarball: a repack, not upstream's binutils-2.40.tar.xz byte for byte
  binutils: {
    '2.40': {
      url: 'http://deb.debian.org/debian/pool/main/b/binutils/binutils_2.40.orig.tar.xz',
      sha256: 'd78c2d2eb24a9be1e02f8854cb1bd435556d7f584fb6bfb6b07e6527d43fc41d',
    },
  },
  coreutils: {
    '9.1': {
      url: 'https://ftp.gnu.org/gnu/coreutils/coreutils-9.1.tar.xz',
      sha256: '61a1f410d78ba7e7f37a5a4f50e6d1320aca33375484a3255eddf17a38580423',
    },
  },
  // Debian's orig tarball: upstream's bash-5.2 with its patches 1 to 15 applied
  bash: {
    '5.2.15': {
      url: 'http://deb.debian.org/debian/pool/main/b/bash/bash_5.2.15.orig.tar.gz',
      sha256: '7a315bc0e9d90713159e4390ec1096a41e4f33cd8cc3d1a749a8e5ad56600f51',
    },
  },
  cmake: {
    '3.25.1': {
      url: 'https://github.com/Kitware/CMake/releases/download/v3.25.1/cmake-3.25.1.tar.gz',
      sha256: '1c511d09516af493694ed9baf13c55947a36389674d657a2d5e0ccedc6b291d8',
    },
  },
  // Debian's orig tarball: a repack without the bundled LuaJIT and OpenSSL
  wrk: {
    '4.1.0': {
      url: 'http://deb.debian.org/debian/pool/main/w/wrk/wrk_4.1.0.orig.tar.gz',
      sha256: 'd8f1ba8b70ae5e10aef63ef4d5b6520bc0da103f7f1c59c79f50e2efd6810f8f',
    },
  },
  // Debian's orig tarball: GitHub's archive of the tag (no generated configure script), not the
  // release tarball gperftools-2.10.tar.gz
  gperftools: {
    '2.10': {
      url: 'http://deb.debian.org/debian/pool/main/g/google-perftools/google-perftools_2.10.orig.tar.gz',
      sha256: 'b0dcfe3aca1a8355955f4b415ede43530e3bb91953b6ffdd75c45891070fe0f1',
    },
  },
  // the web servers and their libraries: upstream's release files (Debian's orig tarballs are
  // byte-identical: the same sha256 as other build recipes pin for the upstream files)
  lighttpd: {
    '1.4.69': {
      url: 'https://download.lighttpd.net/lighttpd/releases-1.4.x/lighttpd-1.4.69.tar.xz',
      sha256: '16ac8db95e719629ba61949b99f8a26feba946a81d185215b28379bb4116b0b4',
    },
  },
  httpd: {
    '2.4.68': {
      url: 'https://archive.apache.org/dist/httpd/httpd-2.4.68.tar.gz',
      sha256: 'ed9a9d4500fb48bb28eaffb3ba71d06ccf86d498fa13ab9f781da010cc488498',
    },
  },
  apr: {
    '1.7.2': {
      url: 'https://archive.apache.org/dist/apr/apr-1.7.2.tar.bz2',
      sha256: '75e77cc86776c030c0a5c408dfbd0bf2a0b75eed5351e52d5439fa1e5509a43e',
    },
  },
  aprUtil: {
    '1.6.3': {
      url: 'https://archive.apache.org/dist/apr/apr-util-1.6.3.tar.bz2',
      sha256: 'a41076e3710746326c3945042994ad9a4fcac0ce0277dd8fea076fec3c9772b5',
    },
  },
} satisfies Record<string, Record<string, PackageSource>>;
