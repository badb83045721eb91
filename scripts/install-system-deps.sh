#!/usr/bin/env bash
# Installs the system packages the tool and its quick start need (Debian 12, as root or with
# sudo); with --test also what the test suite needs (sshd, a single-node Slurm, wrk).
# Idempotent: a second call with everything present returns in about a second.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# major * 1000 + minor: 20.15 (zlib.crc32) is the oldest that works
node_version=$(node -p 'const [a, b] = process.versions.node.split(".").map(Number); a * 1000 + b' 2>/dev/null || echo 0)
if [ "$node_version" -lt 20015 ]; then
  echo "Node.js 20.15 or newer is needed (found: $(node --version 2>/dev/null || echo none)); Debian 12's own nodejs is 18:" >&2
  echo "install Node.js 20 (e.g. from nodejs.org or NodeSource) and run this again" >&2
  exit 1
fi

pkgs=(build-essential make cmake ninja-build patch xz-utils bzip2 unzip time hyperfine
      clang-22 llvm-22-dev lld-22 libclang-rt-22-dev
      libgoogle-perftools-dev zstd zip python3 tcl dpkg-dev curl)
if [ "${1:-}" = "--test" ]; then
  pkgs+=(openssh-server openssh-client slurmctld slurmd slurm-client munge wrk)
  # the other LLVM version pass plugins are tested with (besides 22)
  pkgs+=(clang-19 llvm-19-dev lld-19 libclang-rt-19-dev)
  # the build recipe tests: an autotools bootstrap and a meson build of real sources
  pkgs+=(meson autoconf automake libtool pkg-config)
  # the package tests: elfutils needs zlib; wrk (a slow test) the system's LuaJIT and OpenSSL
  pkgs+=(zlib1g-dev luajit libluajit-5.1-dev libssl-dev)
  # the web server tests: Apache httpd links the system's PCRE2, APR-util its expat
  pkgs+=(libpcre2-dev libexpat1-dev)
  # the HTML report is opened in a real headless browser (playwright-core drives it)
  pkgs+=(chromium)
  # the zsh completion script is loaded and run in a real zsh
  pkgs+=(zsh)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # daemons (sshd, munged, slurm) must not start on installation: the tests start their own on
  # loopback; the blocker is removed whatever happens
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
