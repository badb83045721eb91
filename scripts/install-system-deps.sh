#!/usr/bin/env bash
# Installs the system packages the tool, its tests and its quick start need (Debian/Ubuntu, as root).
# Idempotent: a second call with everything present returns in about a second.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
pkgs=(build-essential make cmake ninja-build patch xz-utils bzip2 unzip time hyperfine
      clang-22 llvm-22-dev lld-22 libclang-rt-22-dev
      libgoogle-perftools-dev zstd zip python3 tcl
      openssh-server openssh-client slurmctld slurmd slurm-client munge
      dpkg-dev wrk)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # daemons (sshd, munged, slurm) must not start on installation: the tests start their own on loopback
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -z "$policy" ] || $SUDO rm -f "$policy"
fi
