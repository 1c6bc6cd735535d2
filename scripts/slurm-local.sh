#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, from Debian's packages,
# for lepton's Slurm end-to-end tests (make test-slurm) and for trying
# "lepton sweep --executor slurm" by hand.
#
#   scripts/slurm-local.sh up      # install if needed, configure, start munged, slurmctld, slurmd
#   eval "$(scripts/slurm-local.sh env)"   # export SLURM_CONF for sbatch, squeue, scontrol ...
#   scripts/slurm-local.sh status  # sinfo and the daemons' pids
#   scripts/slurm-local.sh is-up   # exit 0 when munged, slurmctld and slurmd run
#   scripts/slurm-local.sh down    # stop exactly the daemons "up" started
#
# Everything lives in $LEPTON_SLURM_DIR (default /tmp/lepton-slurm): the
# slurm.conf, a munge key and socket of its own, spool and state
# directories, logs and pid files. Nothing under /etc is changed, and a
# munged or Slurm already running on the machine is left alone: the client
# commands find this cluster through SLURM_CONF, and its daemons through the
# ports and the munge socket written in that slurm.conf.
#
# The daemons are started directly (no systemd). The recipe that works on
# these machines (containers without cgroup delegation):
# ProctrackType=proctrack/linuxproc, TaskPlugin=task/none,
# SelectType=select/cons_tres with CR_Core, one node with all cores.
set -euo pipefail

STATE=${LEPTON_SLURM_DIR:-/tmp/lepton-slurm}
CONF=$STATE/slurm.conf
CTLD_PORT=${LEPTON_SLURM_CTLD_PORT:-16817}
SLURMD_PORT=${LEPTON_SLURM_SLURMD_PORT:-16818}

die() { echo "slurm-local: $*" >&2; exit 1; }
say() { echo "slurm-local: $*" >&2; }

sudo_() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# install the Debian packages when a program is missing.
install() {
	local missing=
	for p in munged slurmctld slurmd sbatch; do
		command -v "$p" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$p" >/dev/null 2>&1 || missing=1
	done
	[ -z "$missing" ] && return 0
	command -v apt-get >/dev/null 2>&1 || die "munge or Slurm is missing and there is no apt-get: install slurmctld, slurmd, slurm-client and munge"
	say "installing slurmctld slurmd slurm-client munge with apt-get"
	sudo_ apt-get update -qq
	# policy-rc.d keeps the packages' own init scripts from starting daemons.
	sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
}

# alive PIDFILE: the pid file names a live process.
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

write_conf() {
	local host cpus mem
	host=$(hostname)
	cpus=$(nproc)
	# Leave 10% of the memory (at least 512 MB) to the system.
	mem=$(awk '/^MemTotal:/ { m = int($2 / 1024); r = int(m / 10); if (r < 512) r = 512; print m - r }' /proc/meminfo)
	mkdir -p "$STATE/ctld" "$STATE/slurmd" "$STATE/log"
	chmod 755 "$STATE"
	cat >"$CONF" <<EOF
# Written by lepton's scripts/slurm-local.sh: one node, one partition.
ClusterName=lepton-local
SlurmctldHost=$host
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire is also how long a requeued job waits before it starts again
# (120 s by default): 10 s keeps the pre-emption test short.
AuthInfo=socket=$STATE/munge.socket,cred_expire=10
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
KillWait=30
MinJobAge=60
SlurmdTimeout=60
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

munge_key() {
	local key=$STATE/munge.key
	[ -s "$key" ] && return 0
	if command -v mungekey >/dev/null 2>&1 || [ -x /usr/sbin/mungekey ]; then
		PATH=$PATH:/usr/sbin mungekey --create --keyfile="$key" --force
	else
		dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
	fi
	chmod 400 "$key"
}

started() { echo "$1" >>"$STATE/started"; }

up() {
	install
	export PATH=$PATH:/usr/sbin
	mkdir -p "$STATE"
	write_conf
	munge_key
	if ! alive "$STATE/munged.pid"; then
		mkdir -p "$STATE/munge"
		chmod 700 "$STATE/munge"
		munged --key-file="$STATE/munge.key" --socket="$STATE/munge.socket" \
			--pid-file="$STATE/munged.pid" --log-file="$STATE/log/munged.log" \
			--seed-file="$STATE/munge/munged.seed" --force
		started munged
	fi
	export SLURM_CONF=$CONF
	if ! alive "$STATE/slurmctld.pid"; then
		slurmctld -f "$CONF" -c
		started slurmctld
	fi
	if ! alive "$STATE/slurmd.pid"; then
		slurmd -f "$CONF"
		started slurmd
	fi
	# Wait until the node takes jobs.
	local i state=
	for i in $(seq 1 60); do
		state=$(sinfo -h -N -o %t 2>/dev/null | head -n1 || true)
		case $state in idle | mix | alloc) break ;; esac
		sleep 0.5
	done
	case $state in
	idle | mix | alloc) ;;
	*)
		tail -n 20 "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log" >&2 || true
		die "the node is not up after 30 s (state '${state:-none}'); logs above"
		;;
	esac
	say "up: $(hostname), $(nproc) CPUs, partition local; use it with: export SLURM_CONF=$CONF"
}

# stop NAME: stop the daemon by its pid file and wait for it to exit.
stop() {
	local pidfile=$STATE/$1.pid pid i
	if ! alive "$pidfile"; then
		say "$1 is not running"
		return 0
	fi
	pid=$(cat "$pidfile")
	kill -TERM "$pid"
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || { say "stopped $1 (pid $pid)"; return 0; }
		sleep 0.1
	done
	say "$1 (pid $pid) ignored SIGTERM for 10 s: killing it"
	kill -KILL "$pid" 2>/dev/null || true
}

down() {
	[ -f "$STATE/started" ] || { say "nothing to stop (no $STATE/started)"; return 0; }
	# Stop in the reverse order of starting: slurmd, slurmctld, munged.
	local d
	for d in $(tac "$STATE/started"); do stop "$d"; done
	rm -f "$STATE/started"
}

status() {
	local d
	for d in munged slurmctld slurmd; do
		if alive "$STATE/$d.pid"; then echo "$d: running (pid $(cat "$STATE/$d.pid"))"; else echo "$d: stopped"; fi
	done
	SLURM_CONF=$CONF sinfo 2>/dev/null || true
}

is_up() {
	local d
	for d in munged slurmctld slurmd; do alive "$STATE/$d.pid" || return 1; done
}

case ${1:-} in
up) up ;;
is-up) is_up ;;
down) down ;;
status) status ;;
env) echo "export SLURM_CONF=$CONF" ;;
*) die "usage: $0 up|down|status|is-up|env" ;;
esac
