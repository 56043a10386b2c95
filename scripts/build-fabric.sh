#!/usr/bin/env bash
# build-fabric.sh: build the pinned Fabric commands from the tools module
# (network/tools), patched with network/tools/patches/fabric, with the
# SmartBFT library (the BFT orderer's consensus) patched with
# network/tools/patches/smartbft, and Fabric CA's from its own module
# (network/tools/ca) into bin/.
#
# The patched Fabric source is a copy of the pinned module out of the module
# cache in build/fabric-src (scripts/fabric-source.sh); the tools module is
# built against it through a generated go.mod (build/fabric-tools/go.mod,
# passed with -modfile) that replaces github.com/hyperledger/fabric with that
# copy, and github.com/hyperledger-labs/SmartBFT with build/smartbft-src, a
# patched copy made the same way. network/tools/go.mod itself is unchanged,
# so `go mod download` there still fetches the pinned releases on a fresh
# machine.
#
# Skips the build when bin/.fabric-version records both modules' current
# go.sum hashes and the hash of both patch sets, and every binary is present.
# FORCE=1 rebuilds regardless.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=$root/network/tools
patches=$tools/patches
bin=$root/bin
stamp=$bin/.fabric-version
src=$root/build/fabric-src
bftsrc=$root/build/smartbft-src
modfile=$root/build/fabric-tools/go.mod

fabric_cmds=(peer orderer configtxgen osnadmin)
ca_cmds=(fabric-ca-server fabric-ca-client)

want=$(cat "$tools/go.sum" "$tools/ca/go.sum" "$patches"/fabric/*.patch "$patches"/smartbft/*.patch | sha256sum | cut -d' ' -f1)

up_to_date() {
	[[ ${FORCE:-0} != 1 && -f $stamp && $(cat "$stamp") == "$want" ]] || return 1
	local c
	for c in "${fabric_cmds[@]}" "${ca_cmds[@]}"; do
		[[ -x $bin/$c ]] || return 1
	done
}

if up_to_date; then
	echo "Fabric binaries up to date in $bin"
	exit 0
fi

mkdir -p "$bin"
rm -f "$stamp"
start=$SECONDS

echo "patching the Fabric source into $src"
"$root/scripts/fabric-source.sh" "$src" all fabric
echo "patching the SmartBFT source into $bftsrc"
"$root/scripts/fabric-source.sh" "$bftsrc" all smartbft

mkdir -p "$(dirname "$modfile")"
cp "$tools/go.mod" "$modfile"
cp "$tools/go.sum" "${modfile%.mod}.sum"
# A path relative to the module root (network/tools), so the binaries' build
# information names no machine-specific directory.
(cd "$tools" && go mod edit -modfile="$modfile" -replace "github.com/hyperledger/fabric=../../build/fabric-src" \
	-replace "github.com/hyperledger-labs/SmartBFT=../../build/smartbft-src")

cd "$tools"
for c in "${fabric_cmds[@]}"; do
	echo "building $c (patched)"
	go build -trimpath -modfile="$modfile" -o "$bin/$c" "github.com/hyperledger/fabric/cmd/$c"
done
cd ca
for c in "${ca_cmds[@]}"; do
	echo "building $c"
	go build -trimpath -o "$bin/$c" "github.com/hyperledger/fabric-ca/cmd/$c"
done
echo "$want" >"$stamp"
echo "Fabric binaries built in $((SECONDS - start)) s into $bin"
