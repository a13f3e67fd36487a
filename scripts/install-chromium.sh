#!/bin/sh
# install-chromium.sh installs Debian's chromium, the headless browser that
# TestReportInBrowser (./audit) renders the audit report in.
#
# It does nothing when chromium is already on PATH. Otherwise it runs
# apt-get install (as root, or through sudo), and apt-get update first only
# if the install fails without it. It says what it did.
set -eu

pkg=chromium

if command -v chromium >/dev/null 2>&1; then
	echo "install-chromium: nothing to do, $(command -v chromium) is there"
	exit 0
fi

sh "$(dirname "$0")/apt-install.sh" install-chromium $pkg

if command -v chromium >/dev/null 2>&1; then
	echo "install-chromium: installed $(command -v chromium)"
else
	echo "install-chromium: installed $pkg, but chromium is not on PATH" >&2
	exit 1
fi
