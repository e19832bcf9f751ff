#!/usr/bin/env bash
# A real single-node Slurm cluster (Debian 12's slurmctld/slurmd/munge) for
# tests: daemons started as plain processes (no systemd), everything (munge
# key and socket, state, spool, pid files, logs, slurm.conf) under one
# directory that is wiped at each start, free ports picked at start.
#
#   scripts/slurm-single-node.sh start DIR   # prints SLURM_CONF=DIR/slurm.conf when the node is idle
#   scripts/slurm-single-node.sh stop DIR    # cancels jobs, stops daemons, kills leftovers of this cluster
#
# Every client command (sbatch, squeue, scancel, sinfo) needs
# SLURM_CONF=DIR/slurm.conf in its environment; batch jobs inherit it.
# Settings and pitfalls: docs/scale-out.md ("Testing on a real Slurm").
# Needs root (slurmd runs jobs as their submitter).
set -euo pipefail

die() { echo "slurm-single-node: $*" >&2; exit 1; }

usage() { die "usage: $0 start|stop DIR"; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$2
case "$dir" in /*) ;; *) dir="$(pwd)/$dir" ;; esac
conf="$dir/slurm.conf"

# A process has exited when it is gone or a zombie (init reaps slowly here).
alive() {
  local pid=$1 stat
  stat=$(ps -o stat= -p "$pid" 2>/dev/null || true)
  [ -n "$stat" ] && [ "${stat:0:1}" != "Z" ]
}

# Waits up to $2 seconds for pid $1 to exit.
wait_exit() {
  local pid=$1 secs=$2 i
  for ((i = 0; i < secs * 10; i++)); do alive "$pid" || return 0; sleep 0.1; done
  return 1
}

# Pids of the processes of this cluster that outlived their daemons:
# slurmstepd (an open file under $dir) and job processes (SLURM_CONF=$conf
# and a SLURM_JOB_ID in their environment: the submitter has the first only).
# Never by name alone.
cluster_leftovers() {
  local f pid
  for f in $(grep -lzxF "SLURM_CONF=$conf" /proc/[0-9]*/environ 2>/dev/null); do
    grep -qz '^SLURM_JOB_ID=' "$f" 2>/dev/null || continue
    pid=${f#/proc/}
    pid=${pid%/environ}
    [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] || echo "$pid"
  done
  for f in $(grep -lxF slurmstepd /proc/[0-9]*/comm 2>/dev/null); do
    pid=${f#/proc/}
    pid=${pid%/comm}
    if ls -l "/proc/$pid/fd" 2>/dev/null | grep -qF -- "$dir/"; then echo "$pid"; fi
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_cluster() {
  [ -f "$conf" ] || { echo "slurm-single-node: no cluster in $dir" >&2; return 0; }
  # (SLURM_CONF per command, not exported: leftovers are found by it.)
  # 1. Cancel every job and give the steps a moment to end (KillWait=2).
  if [ -f "$dir/slurmctld.pid" ] && alive "$(cat "$dir/slurmctld.pid")"; then
    local jobs
    jobs=$(SLURM_CONF="$conf" timeout 10 squeue -h -o %A 2>/dev/null | sort -u || true)
    if [ -n "$jobs" ]; then
      # shellcheck disable=SC2086
      SLURM_CONF="$conf" timeout 10 scancel $jobs 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        [ -z "$(SLURM_CONF="$conf" timeout 5 squeue -h -o %A 2>/dev/null || true)" ] && break
        sleep 0.1
      done
    fi
  fi
  # 2. The daemons, by their pid files.
  local f pid
  for f in slurmd.pid slurmctld.pid munge/munged.pid; do
    [ -f "$dir/$f" ] || continue
    pid=$(cat "$dir/$f")
    [ -n "$pid" ] || continue
    alive "$pid" || continue
    kill -TERM "$pid" 2>/dev/null || true
    wait_exit "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
  done
  # 3. Leftover slurmstepd and job processes of this cluster (they ignore SIGTERM).
  local left
  left=$(cluster_leftovers)
  if [ -n "$left" ]; then
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null || true
    for pid in $left; do wait_exit "$pid" 5 || echo "slurm-single-node: pid $pid did not exit" >&2; done
  fi
}

start_cluster() {
  for b in munged slurmctld slurmd sbatch squeue scancel sinfo; do
    command -v "$b" >/dev/null ||
      die "$b not found: install Debian's slurmctld slurmd slurm-client munge (scripts/setup.sh does)"
  done
  [ "$(id -u)" = 0 ] || die "needs root (slurmd runs jobs as their submitter)"
  if [ -f "$conf" ]; then stop_cluster; fi
  rm -rf "$dir"
  mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
  chmod 0700 "$dir/munge"

  # A private munged: its own key, socket, pid and log.
  head -c 1024 /dev/urandom >"$dir/munge/munge.key"
  chmod 0400 "$dir/munge/munge.key"
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/munged.seed" ||
    die "munged did not start: $(tail -n 5 "$dir/munge/munged.log" 2>/dev/null)"

  local host cpu_line mem ctld_port node_port
  host=$(hostname -s)
  cpu_line=$(slurmd -C | head -n 1) || die "slurmd -C failed"
  mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$cpu_line")
  [ -n "$mem" ] || die "cannot read RealMemory from: $cpu_line"
  # Node description from slurmd -C, memory at 90% (equal or more makes the node INVALID).
  local node_desc
  node_desc=$(sed -e "s/^NodeName=[^ ]* //" -e "s/RealMemory=[0-9]*/RealMemory=$((mem * 9 / 10))/" <<<"$cpu_line")
  ctld_port=$(free_port)
  node_port=$(free_port)
  while [ "$node_port" = "$ctld_port" ]; do node_port=$(free_port); done

  cat >"$conf" <<EOF
ClusterName=groundcap
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$node_port
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MinJobAge=4
KillWait=2
NodeName=$host NodeAddr=127.0.0.1 NodeHostname=$host $node_desc State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$conf"
  slurmctld -f "$conf" || die "slurmctld did not start: $(tail -n 5 "$dir/slurmctld.log" 2>/dev/null)"
  slurmd -f "$conf" -N "$host" || die "slurmd did not start: $(tail -n 5 "$dir/slurmd.log" 2>/dev/null)"
  local state=""
  for ((i = 0; i < 300; i++)); do
    state=$(timeout 5 sinfo -h -N -o %t 2>/dev/null | head -n 1 || true)
    [ "$state" = idle ] && break
    sleep 0.1
  done
  if [ "$state" != idle ]; then
    echo "slurm-single-node: the node is '${state:-unknown}', not idle, after 30 s; logs:" >&2
    tail -n 10 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
    stop_cluster
    exit 1
  fi
  echo "SLURM_CONF=$conf"
}

case "$cmd" in
  start) start_cluster ;;
  stop) stop_cluster ;;
  *) usage ;;
esac
