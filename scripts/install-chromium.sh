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

command -v apt-get >/dev/null 2>&1 || {
	echo "install-chromium: no chromium and no apt-get to install it; install Chromium another way (the browser test skips without it)" >&2
	exit 1
}
sudo=
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=sudo
	else
		echo "install-chromium: installing $pkg needs root (or sudo)" >&2
		exit 1
	fi
fi

install() {
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-o DPkg::Lock::Timeout=600 $pkg
}

echo "install-chromium: installing $pkg with apt-get"
if ! install; then
	echo "install-chromium: apt-get install failed; running apt-get update and trying again"
	$sudo apt-get update -q -o DPkg::Lock::Timeout=600
	install
fi

if command -v chromium >/dev/null 2>&1; then
	echo "install-chromium: installed $(command -v chromium)"
else
	echo "install-chromium: installed $pkg, but chromium is not on PATH" >&2
	exit 1
fi
