#!/usr/bin/env bash
# fabric-source.sh DEST [all|tests] [fabric|smartbft]: copy the source of a
# module that network/tools pins out of the Go module cache into DEST
# (replacing it), make it writable, and apply its patches in order (all, the
# default), or only the test patches (tests), to check that the tests fail
# without the fix. The module is Fabric (github.com/hyperledger/fabric,
# patches in network/tools/patches/fabric, the default) or SmartBFT
# (github.com/hyperledger-labs/SmartBFT, network/tools/patches/smartbft),
# the consensus library of Fabric's BFT orderer. Any patch that does not
# apply cleanly is an error. The module cache itself is never written to.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:?usage: fabric-source.sh DEST [all|tests] [fabric|smartbft]}
which=${2:-all}
name=${3:-fabric}
case $name in
fabric) module=github.com/hyperledger/fabric ;;
smartbft) module=github.com/hyperledger-labs/SmartBFT ;;
*) echo "fabric-source: unknown module $name (fabric or smartbft)" >&2; exit 2 ;;
esac
patches=$root/network/tools/patches/$name

version=$(cd "$root/network/tools" && go list -m -f '{{.Version}}' "$module")
dir=$(cd "$root/network/tools" && go mod download -json "$module@$version" | jq -r .Dir)
[[ -d $dir ]] || { echo "fabric-source: no module directory for $module@$version" >&2; exit 1; }

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
		echo "fabric-source: $(basename "$p") does not apply cleanly to $module@$version:" >&2
		echo "$out" >&2
		exit 1
	fi
	echo "applied $(basename "$p")"
done
