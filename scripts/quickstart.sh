#!/usr/bin/env bash
# The main job: installs what is needed, builds the built-in suites (the bundled kernels and
# bzip2, lua and sqlite from their release tarballs) with a baseline (clang -O2) and an
# instrumented instance (clang -O2 + AddressSanitizer), runs every workload at its medium
# ("train") input several times, verifying every output, and prints the overhead table and the
# path of the run's HTML report.
#
# Usage: scripts/quickstart.sh [--full] [ITERATIONS]
#   ITERATIONS  measured executions per benchmark and instance (default 6: with 6 samples per
#               side the smallest p-value of the Mann-Whitney test is 0.0022, below 0.05 / 11
#               for the 11 benchmarks at once, so it can also tell overlapping samples apart,
#               not only fully separated ones)
#   --full      every benchmark of both suites (also zstd, lz4, binarytrees) at its reference
#               input, one execution at a time, after a warm-up each (default ITERATIONS 4 then)
set -euo pipefail
cd "$(dirname "$0")/.."
full=()
if [ "${1:-}" = "--full" ]; then
  full=(--full)
  shift
fi
iterations="${1:-$([ ${#full[@]} -gt 0 ] && echo 4 || echo 6)}"
# wall and CPU time (of every process waited for) per phase, for the closing line
SECONDS=0
phases="" cpu_total=0 phase_start=0
minutes() { printf '%d min %02d s' $(($1 / 60)) $(($1 % 60)); }
times_file=$(mktemp)
trap 'rm -f "$times_file"' EXIT
phase() {
  local now cpu
  # user + system time of this shell's children so far: `times` (here, not in a subshell, where it
  # would count only the subshell's own children), its second line
  times >"$times_file"
  now=$SECONDS
  cpu=$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] } printf "%d", t * 1000 }' "$times_file")
  phases+="${phases:+, }$1 $((now - phase_start)) s wall, $(((cpu - cpu_total) / 1000)) s CPU"
  phase_start=$now cpu_total=$cpu
}
bash scripts/install-system-deps.sh
bash scripts/install-npm-deps.sh
npm run build --silent
export INFRA_SOURCE_MIRROR="${INFRA_SOURCE_MIRROR:-$PWD/.cache/sources}"
# only the quick start's programs (the full run's too with --full)
sources=(bzip2_ lua5.4_ sqlite3_)
[ ${#full[@]} -eq 0 ] || sources+=(libzstd_ lz4_)
if ! sh scripts/fetch-sources.sh "$INFRA_SOURCE_MIRROR" "${sources[@]}"; then
  echo "note: could not fill the offline source mirror; sources will be downloaded from upstream" >&2
fi
phase "installation checks"
infra() { node ../../bin/infra.js "$@"; }
cd examples/quickstart
# instances build side by side, sharing the cores through one jobserver
infra build quickstart clang asan "${full[@]}" --parallel proc
phase "builds"
# The quick selection runs two executions at a time, one per core, to fit its time: each
# benchmark's clang and asan executions alternate, so both get the same kind of neighbour, and
# the table compares CPU time, which counts only an execution's own work. The full run measures
# one execution at a time, for wall times to publish. The quick selection has no warm-up: the
# builds have just written the binaries and inputs, so the page cache holds them already, and
# CPU time does not count waiting for the disk; the full run warms each benchmark up once.
parallel=(--parallel proc)
warmup=(--warmup 0)
[ ${#full[@]} -eq 0 ] || parallel=() warmup=(--warmup 1)
status=0
# failed executions are recorded and shown in the report; the job still fails at the end
infra run quickstart clang asan "${full[@]}" "${parallel[@]}" --iterations "$iterations" "${warmup[@]}" || status=$?
phase "runs"
results="results/$(readlink results/last)"
fields=(cputime:median maxrss:median)
echo
echo "== overhead of asan relative to clang (results in examples/quickstart/$results)"
report=(report quickstart "$results" --overhead clang --field "${fields[@]}")
infra "${report[@]}"
# the page repeats the table's warnings; they were just printed, so its log is shown only on failure
if ! infra "${report[@]}" --html "$results/report.html" >/dev/null 2>"$results/report-html.log"; then
  cat "$results/report-html.log" >&2
  status=1
fi
echo
echo "HTML report with charts, the tables, platform and command lines: examples/quickstart/$results/report.html"
echo "open it:       xdg-open examples/quickstart/$results/report.html"
echo "regenerate it: (cd examples/quickstart && ../../bin/infra.js ${report[*]} --html $results/report.html)"
phase "report"
echo "quick start: $(minutes "$SECONDS") wall, $(minutes "$((cpu_total / 1000))") CPU ($phases)"
exit "$status"
