#!/bin/sh
# install-onnxruntime.sh installs the ONNX Runtime shared library that
# laiondb's encode package loads (through github.com/yalue/onnxruntime_go).
#
# It takes ONNX Runtime 1.24.3 for linux-x64 (C API version 24, the one
# onnxruntime_go v1.27.0 expects) from the npm package onnxruntime-node@1.24.3,
# using `npm pack` (nothing is installed into node_modules), checks the
# library's sha256 and puts it at
#
#     third_party/onnxruntime/libonnxruntime.so.1   (relative to the repo root)
#
# which is where laiondb looks when neither --ort-lib nor LAIONDB_ORT_LIB is
# set. Running it again is a no-op when the file is already there with the
# right checksum. Set LAIONDB_ORT_DIR to install somewhere else.
set -eu

VERSION=1.24.3
SHA256=92ba8e44d31b80a34f5e805076a044122c3be1fffe0d88ed790de7267b0b2682
MEMBER=package/bin/napi-v6/linux/x64/libonnxruntime.so.1

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${LAIONDB_ORT_DIR:-$root/third_party/onnxruntime}
lib=$dest/libonnxruntime.so.1

sha() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$lib" ] && [ "$(sha "$lib")" = "$SHA256" ]; then
	echo "install-onnxruntime: $lib is already ONNX Runtime $VERSION"
	exit 0
fi

case "$(uname -s)/$(uname -m)" in
Linux/x86_64) ;;
*)
	echo "install-onnxruntime: only linux x86_64 is supported by this script; set LAIONDB_ORT_LIB to your own libonnxruntime" >&2
	exit 1
	;;
esac

command -v npm >/dev/null 2>&1 || {
	echo "install-onnxruntime: npm is needed to fetch onnxruntime-node@$VERSION" >&2
	exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "install-onnxruntime: fetching onnxruntime-node@$VERSION with npm pack"
(cd "$tmp" && npm pack --silent "onnxruntime-node@$VERSION" >/dev/null)
tgz=$(ls "$tmp"/onnxruntime-node-*.tgz)
tar -xzf "$tgz" -C "$tmp" "$MEMBER"

got=$(sha "$tmp/$MEMBER")
if [ "$got" != "$SHA256" ]; then
	echo "install-onnxruntime: sha256 mismatch for $MEMBER: got $got, want $SHA256" >&2
	exit 1
fi

mkdir -p "$dest"
# Copy then rename so a concurrent reader never sees a half-written file.
cp "$tmp/$MEMBER" "$lib.tmp.$$"
chmod 0644 "$lib.tmp.$$"
mv -f "$lib.tmp.$$" "$lib"
echo "install-onnxruntime: installed ONNX Runtime $VERSION at $lib"
