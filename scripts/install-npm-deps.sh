#!/usr/bin/env bash
# Installs the npm dependencies exactly as package-lock.json pins them, unless node_modules was
# already installed from this very lockfile (recorded by digest: file times lie after a checkout
# or a merge).
set -euo pipefail
cd "$(dirname "$0")/.."
lock=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.infra-lock 2>/dev/null)" != "$lock" ]; then
  npm ci --no-audit --no-fund
  echo "$lock" > node_modules/.infra-lock
fi
