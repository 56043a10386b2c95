#!/usr/bin/env bash
# fabric-source.sh DEST [all|tests]: copy the Fabric source that
# network/tools pins out of the Go module cache into DEST (replacing it),
# make it writable, and apply network/tools/patches/fabric/*.patch in order
# (all, the default), or only the test patches (tests), to check that the
# tests fail without the fix. Any patch that does not apply cleanly is an
# error. The module cache itself is never written to.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
patches=$root/network/tools/patches/fabric
dest=${1:?usage: fabric-source.sh DEST [all|tests]}
which=${2:-all}

version=$(cd "$root/network/tools" && go list -m -f '{{.Version}}' github.com/hyperledger/fabric)
dir=$(cd "$root/network/tools" && go mod download -json "github.com/hyperledger/fabric@$version" | jq -r .Dir)
[[ -d $dir ]] || { echo "fabric-source: no module directory for github.com/hyperledger/fabric@$version" >&2; exit 1; }

rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -R "$dir" "$dest"
chmod -R u+w "$dest"

shopt -s nullglob
for p in "$patches"/*.patch; do
	case $which in
	all) ;;
	tests) [[ $(basename "$p") == *-tests-* ]] || continue ;;
	*) echo "fabric-source: unknown patch set $which (all or tests)" >&2; exit 2 ;;
	esac
	if ! out=$(patch -d "$dest" -p1 --forward --batch --fuzz=0 --no-backup-if-mismatch --silent <"$p" 2>&1); then
		echo "fabric-source: $(basename "$p") does not apply cleanly to fabric@$version:" >&2
		echo "$out" >&2
		exit 1
	fi
	echo "applied $(basename "$p")"
done
