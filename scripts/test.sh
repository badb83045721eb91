#!/usr/bin/env bash
# Installs everything the tests need (system packages, npm packages, the offline source mirror),
# checks types, lint, formatting and import cycles, and runs the whole test suite.
# Usage: scripts/test.sh [test files...] (given files: only those tests, no checks)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh --test
bash scripts/install-npm-deps.sh
export INFRA_SOURCE_MIRROR="${INFRA_SOURCE_MIRROR:-$PWD/.cache/sources}"
sh scripts/fetch-sources.sh "$INFRA_SOURCE_MIRROR"
npm run build --silent
# sshd and a single-node Slurm on loopback for test/remote.test.ts (idempotent; left running)
if [ "$(id -u)" -eq 0 ]; then
  bash scripts/start-test-services.sh || echo "test.sh: the remote-execution services did not start; test/remote.test.ts will fail" >&2
fi
if [ $# -gt 0 ]; then
  files=("$@")
else
  # the longest files first, so two run side by side to the end instead of one finishing alone
  heavy=(test/packages-tools.test.ts test/suite-opensource.test.ts test/packages-autotools.test.ts test/webserver.test.ts test/passes.test.ts test/init.test.ts test/recipes.test.ts test/run.test.ts test/paper-workflow.test.ts)
  files=("${heavy[@]}")
  for f in test/*.test.ts; do [[ " ${heavy[*]} " == *" $f "* ]] || files+=("$f"); done
  # the shape checks: types, lint (strict type-aware rules), formatting, import cycles
  npm run --silent typecheck
  npm run --silent lint
fi
# every test's temporary files go under one directory, removed when the tests end
test_tmp=$(mktemp -d "${TMPDIR:-/tmp}/infra-tests.XXXXXX")
trap 'rm -rf "$test_tmp"' EXIT
export TMPDIR="$test_tmp"
node --test --test-concurrency=2 --import tsx "${files[@]}"
