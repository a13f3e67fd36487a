#!/bin/sh
# install-oracle.sh installs what the differential test's oracle
# (internal/oracle/oracle.py, run by TestOracle in ./db) needs: Debian's
# python3-pandas and python3-numpy for /usr/bin/python3.
#
# It does nothing when /usr/bin/python3 already imports both. Otherwise it
# runs apt-get install (as root, or through sudo), and apt-get update first
# only if the install fails without it. It says what it did.
set -eu

py=/usr/bin/python3
pkgs="python3-pandas python3-numpy"

versions() {
	"$py" -c 'import pandas, numpy; print("pandas", pandas.__version__, "and numpy", numpy.__version__)' 2>/dev/null
}

if [ -x "$py" ] && v=$(versions); then
	echo "install-oracle: nothing to do, $py has $v"
	exit 0
fi

command -v apt-get >/dev/null 2>&1 || {
	echo "install-oracle: $py cannot import pandas and numpy, and there is no apt-get to install $pkgs; install them another way" >&2
	exit 1
}
sudo=
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=sudo
	else
		echo "install-oracle: installing $pkgs needs root (or sudo)" >&2
		exit 1
	fi
fi

# Wait for another apt or dpkg run rather than failing on its lock.
install() {
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-o DPkg::Lock::Timeout=600 $pkgs
}

echo "install-oracle: installing $pkgs with apt-get"
if ! install; then
	echo "install-oracle: apt-get install failed; running apt-get update and trying again"
	$sudo apt-get update -q -o DPkg::Lock::Timeout=600
	install
fi

if v=$(versions); then
	echo "install-oracle: installed $pkgs; $py has $v"
else
	echo "install-oracle: installed $pkgs, but $py still cannot import pandas and numpy" >&2
	exit 1
fi
