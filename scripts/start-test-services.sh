#!/usr/bin/env bash
# Starts the services the remote-execution tests use, all on this machine and reachable only
# over loopback (run as root):
#   - sshd on 127.0.0.1:2222, accepting root's own key (generated if root has none)
#   - munged, slurmctld and slurmd: a single-node Slurm cluster with a generated configuration
# Idempotent: a service whose recorded process is alive is left alone. The daemons are started
# in their own sessions and outlive this script; their PIDs are written to $STATE/pids, where
# scripts/stop-test-services.sh finds them. Prints what it started and the environment the
# Slurm commands need (SLURM_CONF).
#
# State directory: $INFRA_TEST_SERVICES_DIR (default /tmp/infra-services).
set -euo pipefail
STATE="${INFRA_TEST_SERVICES_DIR:-/tmp/infra-services}"
SSH_PORT=2222
if [ "$(id -u)" -ne 0 ]; then
  echo "start-test-services: must run as root (it starts sshd, munged and Slurm daemons)" >&2
  exit 1
fi
for prog in /usr/sbin/sshd /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd sbatch sinfo; do
  command -v "$prog" >/dev/null || {
    echo "start-test-services: $prog is missing; run scripts/install-system-deps.sh --test" >&2
    exit 1
  }
done
mkdir -p "$STATE/pids" "$STATE/logs"

# alive NAME: the recorded process of service NAME still runs the expected program
alive() {
  local pidfile="$STATE/pids/$1.pid" pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -q "$1" "/proc/$pid/comm" 2>/dev/null
}

# exposed NAME: the addresses other than loopback that the recorded process of NAME listens on
exposed() {
  local pid
  pid=$(cat "$STATE/pids/$1.pid" 2>/dev/null) || return 0
  ss -Hltnp 2>/dev/null | grep "pid=$pid," | awk '{print $4}' | grep -Ev '^(127\.[0-9.]+|\[::1\]):[0-9]+$' || true
}

# running NAME: alive and listening on loopback only; one that listens elsewhere (started by
# an older version of this script) is stopped, to be started again
running() {
  alive "$1" || return 1
  [ -n "$(exposed "$1")" ] || return 0
  local pid
  pid=$(cat "$STATE/pids/$1.pid")
  echo "stopping $1 (pid $pid): it listens on $(exposed "$1" | tr '\n' ' ')"
  kill "$pid"
  wait_until 20 "$1 to stop" sh -c "! [ -d /proc/$pid ]"
  return 1
}

# launch NAME COMMAND...: runs COMMAND in a new session, detached from this script
launch() {
  local name=$1
  shift
  setsid "$@" </dev/null >>"$STATE/logs/$name.log" 2>&1 &
  echo $! >"$STATE/pids/$name.pid"
  echo "started $name (pid $!, log $STATE/logs/$name.log)"
}

# wait_until SECONDS WHAT COMMAND...: polls COMMAND until it succeeds
wait_until() {
  local limit=$1 what=$2
  shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $end ]; then
      echo "start-test-services: $what not ready after ${limit} s (logs in $STATE/logs)" >&2
      exit 1
    fi
    sleep 0.2
  done
}

# --- sshd -------------------------------------------------------------------------------
home=$(getent passwd root | cut -d: -f6)
mkdir -p "$home/.ssh"
chmod 700 "$home/.ssh"
[ -f "$home/.ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "root@$(hostname) (test services)" -f "$home/.ssh/id_ed25519"
touch "$home/.ssh/authorized_keys"
chmod 600 "$home/.ssh/authorized_keys"
grep -qxF "$(cat "$home/.ssh/id_ed25519.pub")" "$home/.ssh/authorized_keys" || cat "$home/.ssh/id_ed25519.pub" >>"$home/.ssh/authorized_keys"
[ -f "$STATE/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$STATE/ssh_host_ed25519_key"
# the client trusts exactly this server key for [127.0.0.1]:2222 (no host-key checks disabled)
known="$home/.ssh/known_hosts"
entry="[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$STATE/ssh_host_ed25519_key.pub")"
touch "$known"
if ! grep -qxF "$entry" "$known"; then
  ssh-keygen -q -R "[127.0.0.1]:$SSH_PORT" -f "$known" >/dev/null 2>&1 || true
  echo "$entry" >>"$known"
fi
if running sshd; then
  echo "sshd already running (pid $(cat "$STATE/pids/sshd.pid"))"
else
  mkdir -p /run/sshd
  launch sshd /usr/sbin/sshd -D -e -p "$SSH_PORT" -h "$STATE/ssh_host_ed25519_key" \
    -o ListenAddress=127.0.0.1 -o PidFile=none -o PermitRootLogin=prohibit-password \
    -o PasswordAuthentication=no -o UsePAM=no
fi
wait_until 10 "sshd on 127.0.0.1:$SSH_PORT" \
  ssh -p "$SSH_PORT" -o BatchMode=yes -o ConnectTimeout=2 root@127.0.0.1 true

# --- munge ------------------------------------------------------------------------------
if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  echo "munged already answering"
else
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge
  [ -f /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=128 of=/etc/munge/munge.key 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
  launch munged setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged -F
  wait_until 10 munged sh -c 'munge -n </dev/null | unmunge'
fi

# --- slurm ------------------------------------------------------------------------------
node=$(hostname -s)
conf="$STATE/slurm.conf"
mkdir -p "$STATE/slurm/state" "$STATE/slurm/spool"
cat >"$conf.new" <<EOF
ClusterName=infra-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$STATE/slurm/state
SlurmdSpoolDir=$STATE/slurm/spool
SlurmctldPidFile=$STATE/slurm/slurmctld.pid
SlurmdPidFile=$STATE/slurm/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/linux
AccountingStorageType=accounting_storage/none
KillWait=5
# listen on the loopback address the names below resolve to, not on every address (0.0.0.0)
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
mv "$conf.new" "$conf"
export SLURM_CONF="$conf"
if running slurmctld; then
  echo "slurmctld already running (pid $(cat "$STATE/pids/slurmctld.pid"))"
else
  launch slurmctld /usr/sbin/slurmctld -D -f "$conf"
fi
wait_until 20 slurmctld scontrol ping
if running slurmd; then
  echo "slurmd already running (pid $(cat "$STATE/pids/slurmd.pid"))"
else
  launch slurmd /usr/sbin/slurmd -D -f "$conf"
fi
# a node left down or drained by an earlier run is returned to service
scontrol update NodeName="$node" State=RESUME >/dev/null 2>&1 || true
wait_until 30 "slurm node $node" sh -c "sinfo -h -N -n '$node' -o %t | grep -Eq '^(idle|mix|alloc)'"
echo "slurm node $node is up"
# every port the test services listen on must be a loopback one
for name in sshd slurmctld slurmd; do
  if [ -n "$(exposed "$name")" ]; then
    echo "start-test-services: $name listens on $(exposed "$name" | tr '\n' ' ')not only on loopback (does $node resolve to 127.0.0.1?)" >&2
    exit 1
  fi
done
echo "export SLURM_CONF=$conf"
