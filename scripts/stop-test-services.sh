#!/usr/bin/env bash
# Stops the services scripts/start-test-services.sh started, by the PIDs it recorded
# (nothing else is touched). State directory: $INFRA_TEST_SERVICES_DIR (default
# /tmp/infra-services).
set -euo pipefail
STATE="${INFRA_TEST_SERVICES_DIR:-/tmp/infra-services}"
for name in slurmd slurmctld munged sshd; do
  pidfile="$STATE/pids/$name.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -q "$name" "/proc/$pid/comm" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ -d "/proc/$pid" ] && kill -KILL "$pid"
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
done
