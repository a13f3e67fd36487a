#!/bin/sh
# install-slurm.sh installs Debian's slurm-wlm and munge, the scheduler
# TestSlurm (./cmd/laiondb) runs laiondb slurm's batch jobs on, as a
# one-node cluster that scripts/slurm-cluster.sh starts.
#
# It does nothing when slurmctld, slurmd and munged are on PATH. Otherwise
# it runs apt-get install (as root, or through sudo). A machine where they
# cannot be installed only loses that test, which then skips: this script
# says so and exits 0.
set -eu

if command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 && command -v munged >/dev/null 2>&1; then
	echo "install-slurm: nothing to do, $(command -v slurmctld) is there"
	exit 0
fi
if sh "$(dirname "$0")/apt-install.sh" install-slurm slurm-wlm munge; then
	echo "install-slurm: installed slurm-wlm and munge"
else
	echo "install-slurm: could not install slurm-wlm and munge; TestSlurm will skip" >&2
fi
