#!/bin/sh
# Fills DIR with the upstream source tarballs of the built-in open-source suite and nginx, taken from
# Debian's source archive (Debian's "orig" tarballs are the upstream release files byte for byte,
# or a pinned repack where noted in src/targets/opensource/). Point --source-mirror DIR (or
# INFRA_SOURCE_MIRROR=DIR) at the result to build the suite without network access.
#
# Usage: scripts/fetch-sources.sh DIR
# Idempotent: returns at once when DIR already holds every tarball.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
mkdir -p "$dir"

# source package (bookworm version) and the orig tarball it provides
packages="
bzip2 bzip2_1.0.8.orig.tar.gz
lua5.4 lua5.4_5.4.4.orig.tar.gz
sqlite3 sqlite3_3.40.1.orig.tar.xz
libzstd libzstd_1.5.4+dfsg2.orig.tar.xz
lz4 lz4_1.9.4.orig.tar.gz
nginx nginx_1.22.1.orig.tar.gz
"

missing=
set -- $packages
while [ $# -ge 2 ]; do
  [ -f "$dir/$2" ] || missing="$missing $1"
  shift 2
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "fetch-sources: apt-get not found; download these source packages by hand into $dir:$missing" >&2
  exit 1
fi

sources=/etc/apt/sources.list.d/debian.sources
if [ -f "$sources" ] && ! grep -q '^Types:.*deb-src' "$sources"; then
  sed -i 's/^Types: deb$/Types: deb deb-src/' "$sources"
  apt-get update -q >&2
elif ! ls /var/lib/apt/lists/*_Sources* >/dev/null 2>&1; then
  apt-get update -q >&2
fi

for pkg in $missing; do
  (cd "$dir" && apt-get source -q --download-only "$pkg/bookworm" >&2)
done

set -- $packages
status=0
while [ $# -ge 2 ]; do
  if [ ! -f "$dir/$2" ]; then
    echo "fetch-sources: $2 is still missing after apt-get source $1/bookworm" >&2
    status=1
  fi
  shift 2
done
exit $status
