#!/bin/sh
# apt-install.sh NAME PKG... installs Debian packages for the scripts that
# set up what tests need (install-oracle.sh, install-chromium.sh): as root
# or through sudo, waiting for another apt run rather than failing on its
# lock, and running apt-get update only if the install fails without it.
# NAME prefixes its messages.
set -eu
name=$1
shift

command -v apt-get >/dev/null 2>&1 || {
	echo "$name: no apt-get to install $*; install them another way" >&2
	exit 1
}
sudo=
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=sudo
	else
		echo "$name: installing $* needs root (or sudo)" >&2
		exit 1
	fi
fi

install() {
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-o DPkg::Lock::Timeout=600 "$@"
}

echo "$name: installing $* with apt-get"
if ! install "$@"; then
	echo "$name: apt-get install failed; running apt-get update and trying again"
	$sudo apt-get update -q -o DPkg::Lock::Timeout=600
	install "$@"
fi
