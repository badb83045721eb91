#!/bin/sh
# Fills DIR with the source tarballs of the built-in open-source suite, nginx and the programs the
# build recipe tests use (libyaml: autotools, pkgconf: meson), taken from Debian's archive (its
# "orig" tarballs are the upstream release files byte for byte, or a pinned repack where noted
# in src/targets/). Point --source-mirror DIR (or INFRA_SOURCE_MIRROR=DIR) at
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
