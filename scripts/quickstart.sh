#!/usr/bin/env bash
# The main job: installs what is needed, builds real programs with a baseline (clang -O2) and an
# instrumented instance (clang -O2 + AddressSanitizer), runs every workload several times and
# prints the overhead report. Usage: scripts/quickstart.sh [ITERATIONS]   (default 4, the fewest
# for which the significance test can reach p < 0.05)
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-4}"
bash scripts/install-system-deps.sh
bash scripts/install-npm-deps.sh
npm run build --silent
export INFRA_SOURCE_MIRROR="${INFRA_SOURCE_MIRROR:-$PWD/.cache/sources}"
if ! sh scripts/fetch-sources.sh "$INFRA_SOURCE_MIRROR"; then
  echo "note: could not fill the offline source mirror; sources will be downloaded from upstream" >&2
fi
infra() { node ../../bin/infra.js "$@"; }
cd examples/quickstart
# builds run as parallel jobs sharing the cores; executions run one at a time, so they do not
# disturb each other's timings
status=0
for target in kernels opensource; do
  infra build "$target" clang asan --parallel proc
  # failed executions are recorded and shown in the report; the job still fails at the end
  infra run "$target" clang asan --iterations "$iterations" --warmup 1 || status=$?
  results="results/$(readlink results/last)"
  echo
  echo "== $target: overhead of asan relative to clang (results in examples/quickstart/$results)"
  infra report "$target" "$results" --overhead clang --field runtime:median maxrss:median
done
exit "$status"
