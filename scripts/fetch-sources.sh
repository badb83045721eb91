#!/bin/sh
# Fills DIR with the source tarballs of the built-in open-source suite, nginx, the programs the
# build recipe tests use (libyaml: autotools, pkgconf: meson) and the built-in packages built
# from source (src/packages/: autotools, make, ninja, cmake, binutils, ...), taken from Debian's
# archive (its "orig" tarballs are the upstream release files byte for byte, or a pinned repack
# where noted in src/targets/ and src/packages/). Point --source-mirror DIR (or INFRA_SOURCE_MIRROR=DIR) at
# the result to build without access to the upstream sites. Nothing here is trusted blindly: the
# infra finds a file in the mirror only by the sha256 it pins, so a damaged download is ignored.
#
# Usage: scripts/fetch-sources.sh DIR
# Idempotent: returns at once when DIR already holds every tarball. Changes no system settings.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
mkdir -p "$dir"
archive=${DEBIAN_ARCHIVE:-http://deb.debian.org/debian}

# path in the archive's pool of each orig tarball (bookworm's versions)
files="
pool/main/b/bzip2/bzip2_1.0.8.orig.tar.gz
pool/main/l/lua5.4/lua5.4_5.4.4.orig.tar.gz
pool/main/s/sqlite3/sqlite3_3.40.1.orig.tar.xz
pool/main/libz/libzstd/libzstd_1.5.4+dfsg2.orig.tar.xz
pool/main/l/lz4/lz4_1.9.4.orig.tar.gz
pool/main/n/nginx/nginx_1.22.1.orig.tar.gz
pool/main/liby/libyaml/libyaml_0.2.5.orig.tar.gz
pool/main/p/pkgconf/pkgconf_1.8.1.orig.tar.xz
pool/main/m/m4/m4_1.4.19.orig.tar.xz
pool/main/a/autoconf/autoconf_2.71.orig.tar.gz
pool/main/libt/libtool/libtool_2.4.7.orig.tar.xz
pool/main/a/automake-1.16/automake-1.16_1.16.5.orig.tar.xz
pool/main/p/patchelf/patchelf_0.14.3.orig.tar.gz
pool/main/m/make-dfsg/make-dfsg_4.3.orig.tar.gz
pool/main/n/ninja-build/ninja-build_1.11.1.orig.tar.gz
pool/main/e/elfutils/elfutils_0.188.orig.tar.bz2
pool/main/libu/libunwind/libunwind_1.6.2.orig.tar.gz
pool/main/g/google-perftools/google-perftools_2.10.orig.tar.gz
pool/main/b/binutils/binutils_2.40.orig.tar.xz
pool/main/c/cmake/cmake_3.25.1.orig.tar.gz
pool/main/c/coreutils/coreutils_9.1.orig.tar.xz
pool/main/b/bash/bash_5.2.15.orig.tar.gz
pool/main/w/wrk/wrk_4.1.0.orig.tar.gz
pool/main/l/lighttpd/lighttpd_1.4.69.orig.tar.xz
pool/main/a/apache2/apache2_2.4.68.orig.tar.gz
pool/main/a/apr/apr_1.7.2.orig.tar.bz2
pool/main/a/apr-util/apr-util_1.6.3.orig.tar.bz2
"

status=0
for path in $files; do
  name=$(basename "$path")
  [ -f "$dir/$name" ] && continue
  echo "fetch-sources: $name" >&2
  if curl -sSfL --retry 2 -o "$dir/.$name.part" "$archive/$path"; then
    mv "$dir/.$name.part" "$dir/$name"
  else
    rm -f "$dir/.$name.part"
    echo "fetch-sources: could not download $archive/$path" >&2
    status=1
  fi
done
exit $status
