#!/usr/bin/env bash
# build-fabric.sh: build the pinned Fabric commands from the tools module
# (network/tools) and Fabric CA's from its own (network/tools/ca) into bin/.
# Skips the build when bin/.fabric-version records both modules' current
# go.sum hashes and every binary is present. FORCE=1 rebuilds regardless.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=$root/network/tools
bin=$root/bin
stamp=$bin/.fabric-version

fabric_cmds=(peer orderer configtxgen osnadmin)
ca_cmds=(fabric-ca-server fabric-ca-client)

want=$(cat "$tools/go.sum" "$tools/ca/go.sum" | sha256sum | cut -d' ' -f1)

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
cd "$tools"
start=$SECONDS
for c in "${fabric_cmds[@]}"; do
	echo "building $c"
	go build -trimpath -o "$bin/$c" "github.com/hyperledger/fabric/cmd/$c"
done
cd ca
for c in "${ca_cmds[@]}"; do
	echo "building $c"
	go build -trimpath -o "$bin/$c" "github.com/hyperledger/fabric-ca/cmd/$c"
done
echo "$want" >"$stamp"
echo "Fabric binaries built in $((SECONDS - start)) s into $bin"
