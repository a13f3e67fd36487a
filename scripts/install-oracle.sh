#!/bin/sh
# install-oracle.sh installs what the differential test's oracle
# (internal/oracle/oracle.py, run by TestOracle in ./db) needs: Debian's
# python3-pandas and python3-numpy for /usr/bin/python3, and python3-scipy,
# the reference of the rate comparison's test (audit/compare_test.go).
#
# It does nothing when /usr/bin/python3 already imports both. Otherwise it
# runs apt-get install (as root, or through sudo), and apt-get update first
# only if the install fails without it. It says what it did.
set -eu

py=/usr/bin/python3
pkgs="python3-pandas python3-numpy python3-scipy"

versions() {
	"$py" -c 'import pandas, numpy, scipy; print("pandas", pandas.__version__, "numpy", numpy.__version__, "and scipy", scipy.__version__)' 2>/dev/null
}

if [ -x "$py" ] && v=$(versions); then
	echo "install-oracle: nothing to do, $py has $v"
	exit 0
fi

sh "$(dirname "$0")/apt-install.sh" install-oracle $pkgs

if v=$(versions); then
	echo "install-oracle: installed $pkgs; $py has $v"
else
	echo "install-oracle: installed $pkgs, but $py still cannot import pandas, numpy and scipy" >&2
	exit 1
fi
