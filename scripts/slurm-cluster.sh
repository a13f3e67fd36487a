#!/bin/sh
# slurm-cluster.sh start DIR | stop DIR runs a one-node SLURM cluster on
# loopback for tests: munged with its own key and socket, slurmctld and
# slurmd as root, every file (configuration, state, spool, logs) in DIR.
# start prints the slurm.conf path (export SLURM_CONF=it for sbatch, squeue
# and the daemons) once the node is idle, or fails, saying why, within 30 s.
# It needs root, and slurm-wlm and munge (scripts/install-slurm.sh).
set -eu
cmd=$1
dir=$(cd "$2" && pwd)
conf=$dir/slurm.conf

# stop ends the daemons and waits until they have exited: slurmctld saves
# its state as it stops, and DIR may be removed right after (up to 10 s a
# daemon, then it is killed).
stop() {
	for p in slurmd slurmctld munged; do
		[ -s "$dir/$p.pid" ] || continue
		pid=$(cat "$dir/$p.pid")
		kill "$pid" 2>/dev/null || continue
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
	done
}

case $cmd in
stop)
	stop
	exit 0
	;;
start) ;;
*)
	echo "usage: slurm-cluster.sh start|stop DIR" >&2
	exit 2
	;;
esac

[ "$(id -u)" -eq 0 ] || { echo "slurm-cluster: needs root" >&2; exit 1; }
for b in munged slurmctld slurmd sinfo; do
	command -v $b >/dev/null 2>&1 || { echo "slurm-cluster: no $b (scripts/install-slurm.sh installs slurm-wlm and munge)" >&2; exit 1; }
done
mkdir -p "$dir/state" "$dir/spool" "$dir/log"
head -c 1024 /dev/urandom >"$dir/munge.key"
chmod 600 "$dir/munge.key"
munged --force --key-file="$dir/munge.key" --socket="$dir/munge.sock" --pid-file="$dir/munged.pid" \
	--log-file="$dir/log/munged.log" --seed-file="$dir/munge.seed" || { echo "slurm-cluster: munged did not start" >&2; exit 1; }
host=$(hostname -s)
# Ports from the directory's name, so that two clusters of one machine
# do not collide.
port=$((20000 + $(printf '%s' "$dir" | cksum | cut -d' ' -f1) % 20000))
cat >"$conf" <<CONF
ClusterName=laiondbtest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=$port
SlurmdPort=$((port + 1))
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$conf"
slurmctld -c || { echo "slurm-cluster: slurmctld did not start (log: $dir/log/slurmctld.log)" >&2; stop; exit 1; }
slurmd || { echo "slurm-cluster: slurmd did not start (log: $dir/log/slurmd.log)" >&2; stop; exit 1; }
i=0
while [ $i -lt 30 ]; do
	if sinfo -h -o %T 2>/dev/null | grep -qx idle; then
		echo "$conf"
		exit 0
	fi
	sleep 1
	i=$((i + 1))
done
echo "slurm-cluster: the node is not idle after 30 s: $(sinfo -h -o '%T %E' 2>&1) (logs in $dir/log)" >&2
stop
exit 1
