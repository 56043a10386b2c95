#!/usr/bin/env bash
# network.sh: the local mtrace Fabric network, run as native processes.
#
#   network.sh up               create, or restart, the network and deploy the chaincode
#   network.sh down [--purge]   stop every process by its recorded PID (--purge: delete MTRACE_HOME)
#   network.sh status           processes, block heights, committed chaincode
#   network.sh deploy [NAME MAIN]
#                               build the chaincode; install, approve and commit it if it changed.
#                               NAME MAIN deploys another chaincode beside mtrace, built from
#                               the Go main package MAIN: bench networks deploy the benchmark's
#                               baseline with 'deploy mtrace-baseline ./test/bench/baselinecc'
#   network.sh stop NODE...     stop single nodes (fault tests); 'up' starts them again
#   network.sh logs [node]      follow the logs (<org>-orderer, a peer's node name, cc-<peer>,
#                               cc-<peer>-<chaincode> for another chaincode)
#   network.sh add-org --msp ID --role ROLE --name TEXT [--node NAME] [--signers NODE,...]
#                               a new organisation joins the running channel
#   network.sh remove-org NODE [--signers NODE,...]
#                               an organisation leaves the registry and the channel
#
# The consortium (organisations and roles; each member runs a CA, a peer and
# an orderer, a SmartBFT consenter) is a file: a new network
# is built from MTRACE_TOPOLOGY (default network/consortium.yaml) and keeps
# its own copy in MTRACE_HOME/consortium.yaml, which add-org and remove-org
# change. bin/mtrace-net (network/cmd/mtrace-net) reads it, writes the
# nodes' configuration and the CLI profiles, enrols every identity from
# each organisation's Fabric CA, builds the genesis block with the
# per-member steps of network/member (the cards of every organisation,
# then Genesis), waits, and makes the channel config updates; this script
# starts and stops processes (CA servers, orderers, peers).
#
# Environment: MTRACE_HOME (runtime folder, default <repo>/.mtrace),
# MTRACE_BASE_PORT (default 27000), MTRACE_CHANNEL (a new network's channel,
# default the consortium file's), MTRACE_CONSENSUS (a new network's
# consensus: bft, the default, or raft, the same orderers as etcdraft
# consenters, for benchmarks only; kept in the network's consortium file),
# MTRACE_LOG_SPEC (Fabric logging spec for
# the nodes, default grpc=warning:info), MTRACE_CC_SRC (module root that
# deploy builds the mtrace chaincode from, default the repository; the upgrade test
# points it at an older release).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
H=${MTRACE_HOME:-$root/.mtrace}
B=${MTRACE_BASE_PORT:-27000}
LOG_SPEC=${MTRACE_LOG_SPEC:-grpc=warning:info}
CC=mtrace
BIN=$root/bin
export PATH="$BIN:$PATH"
export MTRACE_HOME=$H MTRACE_BASE_PORT=$B

CRYPTO=$H/crypto
TOPO=$H/consortium.yaml

# net ARGS...: mtrace-net on this network's home, base port and topology.
net() { "$BIN/mtrace-net" -t "$TOPO" "$@"; }

# load_topology: the nodes of $TOPO, into ORDERERS and PEERS (node names)
# and the maps below (by node name). mtrace-net validates the file.
ORDERERS=() PEERS=() CAS=()
declare -A MSP HOST PORT APORT OPORT
load_topology() {
	local kind name msp host port admin ops lines
	lines=$(net nodes) || fail "the consortium file $TOPO is not valid"
	ORDERERS=() PEERS=() CAS=()
	while read -r kind name msp host port admin ops; do
		case $kind in orderer) ORDERERS+=("$name") ;; ca) CAS+=("$name") ;; *) PEERS+=("$name") ;; esac
		MSP[$name]=$msp HOST[$name]=$host PORT[$name]=$port APORT[$name]=$admin OPORT[$name]=$ops
	done <<<"$lines"
	CHANNEL=$(sed -n 's/^channel: *//p' "$TOPO")
	CONSENSUS=$(net consensus) || fail "the consortium file $TOPO is not valid"
	# The chaincode-level endorsement policy governs keys without a
	# key-level policy, above all every key a transaction creates: peers of
	# two member organisations, so no organisation alone can create a
	# batch, a process record or an index entry
	# (docs/explanation/trust-model.md). MTRACE_CC_POLICY overrides it (benchmarks compare
	# designs with it).
	POLICY=${MTRACE_CC_POLICY:-$(net policy)}
}

# build_net: build bin/mtrace-net unless it is newer than its sources.
build_net() {
	if [[ -x $BIN/mtrace-net && -z $(find "$root/network" "$root/internal" "$root/chaincode/model" "$root/go.mod" "$root/go.sum" \
		-newer "$BIN/mtrace-net" \( -name '*.go' -o -name '*.tmpl' -o -name 'go.*' \) -print -quit) ]]; then
		return 0
	fi
	(cd "$root" && go build -trimpath -buildvcs=false -o "$BIN/mtrace-net" ./network/cmd/mtrace-net) ||
		fail "building mtrace-net failed"
}

STARTED=() # nodes this run started; stopped again if the run fails

T0=$EPOCHREALTIME
say() { printf '%s\n' "$*"; }
# since: seconds since the script started, to one decimal.
since() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }'; }
fail() {
	printf 'network.sh: %s\n' "$*" >&2
	exit 1
}

# --- paths -------------------------------------------------------------------

org_dir() { echo "$CRYPTO/peerOrganizations/${HOST[$1]#peer0.}"; }
ord_dir() { echo "$(org_dir "${1%-orderer}")/orderers/${HOST[$1]}"; }
peer_dir() { echo "$(org_dir "$1")/peers/${HOST[$1]}"; }
tlsca() { echo "$(org_dir "$1")/tlsca/tlsca.${HOST[$1]#peer0.}-cert.pem"; }
is_orderer() { [[ " ${ORDERERS[*]} " == *" $1 "* ]]; }

# --- processes ---------------------------------------------------------------

# ours PID NODE: the PID is alive and is that node of this MTRACE_HOME.
ours() {
	local pid=$1 node=$2 cmd
	[[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	case $node in
	cc-*) [[ $cmd == *"-cc -peer-config "* ]] || return 1 ;;
	*-orderer) [[ $cmd == "$BIN/orderer "* ]] || return 1 ;;
	ca-*) [[ $cmd == "$BIN/fabric-ca-server start "* ]] || return 1 ;;
	*) [[ $cmd == "$BIN/peer node start "* ]] || return 1 ;;
	esac
	# Read without a pipeline: under pipefail, `tr | grep -q` fails whenever
	# grep finds the line and exits before tr has written the rest of a
	# large environment (tr then dies of SIGPIPE), and a running node would
	# be taken for a stopped one.
	local vars v
	mapfile -d '' -t vars <"/proc/$pid/environ" 2>/dev/null || return 1
	for v in "${vars[@]}"; do
		[[ $v == "MTRACE_HOME=$H" ]] && return 0
	done
	return 1
}

pid_of() { [[ -f $H/pids/$1.pid ]] && cat "$H/pids/$1.pid"; }
running() {
	local pid
	pid=$(pid_of "$1") || return 1
	ours "$pid" "$1"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# client_roots: the TLS CAs whose certificates the orderers accept from
# clients, comma-separated: every member organisation's. The orderers
# require a client certificate (defence in
# depth: a party without one from a member's TLS CA cannot even reach
# Broadcast or Deliver). The orderer adds the TLS CAs of the channel's
# MSPs by itself whenever the channel configuration changes, so an
# organisation that joins is trusted without a restart.
client_roots() {
	local p roots=()
	for p in "${PEERS[@]}"; do
		[[ -f $(tlsca "$p") ]] && roots+=("$(tlsca "$p")")
	done
	local IFS=,
	echo "${roots[*]}"
}

# start_orderer ORDERER: one member's orderer, a SmartBFT consenter. It
# replicates missing blocks with the "simple" policy (Fabric's cluster
# block puller, as Raft does): the default "consensus" policy's deliverer
# in Fabric v3.1.1 sends no TLS certificate hash, so orderers that require
# client certificates refuse it and a restarted orderer never catches up.
start_orderer() {
	local o=$1 d
	d=$(ord_dir "$o")
	mkdir -p "$H/data/$o"
	env FABRIC_CFG_PATH="$H/config" FABRIC_LOGGING_SPEC="$LOG_SPEC" MTRACE_HOME="$H" \
		ORDERER_GENERAL_LISTENADDRESS=127.0.0.1 \
		ORDERER_GENERAL_LISTENPORT="${PORT[$o]}" \
		ORDERER_GENERAL_LOCALMSPID="${MSP[$o]}" \
		ORDERER_GENERAL_LOCALMSPDIR="$d/msp" \
		ORDERER_GENERAL_BOOTSTRAPMETHOD=none \
		ORDERER_GENERAL_TLS_ENABLED=true \
		ORDERER_GENERAL_TLS_CERTIFICATE="$d/tls/server.crt" \
		ORDERER_GENERAL_TLS_PRIVATEKEY="$d/tls/server.key" \
		ORDERER_GENERAL_TLS_ROOTCAS="[$d/tls/ca.crt]" \
		ORDERER_GENERAL_TLS_CLIENTAUTHREQUIRED=true \
		ORDERER_GENERAL_TLS_CLIENTROOTCAS="[$(client_roots)]" \
		ORDERER_CHANNELPARTICIPATION_ENABLED=true \
		ORDERER_GENERAL_CLUSTER_REPLICATIONPOLICY=simple \
		ORDERER_FILELEDGER_LOCATION="$H/data/$o/ledger" \
		ORDERER_CONSENSUS_WALDIR="$H/data/$o/wal" \
		ORDERER_CONSENSUS_SNAPDIR="$H/data/$o/snap" \
		ORDERER_OPERATIONS_LISTENADDRESS="127.0.0.1:${OPORT[$o]}" \
		ORDERER_METRICS_PROVIDER=prometheus \
		ORDERER_ADMIN_LISTENADDRESS="127.0.0.1:${APORT[$o]}" \
		ORDERER_ADMIN_TLS_ENABLED=true \
		ORDERER_ADMIN_TLS_CERTIFICATE="$d/tls/server.crt" \
		ORDERER_ADMIN_TLS_PRIVATEKEY="$d/tls/server.key" \
		ORDERER_ADMIN_TLS_ROOTCAS="[$d/tls/ca.crt]" \
		ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED=true \
		ORDERER_ADMIN_TLS_CLIENTROOTCAS="[$d/tls/ca.crt]" \
		setsid "$BIN/orderer" </dev/null >>"$H/logs/$o.log" 2>&1 &
	echo "$!" >"$H/pids/$o.pid"
	STARTED+=("$o")
}

start_peer() {
	local n=$1 d addr cc
	d=$(peer_dir "$n")
	addr=127.0.0.1:${PORT[$n]}
	cc=127.0.0.1:${APORT[$n]}
	mkdir -p "$H/data/$n"
	env FABRIC_CFG_PATH="$H/config" FABRIC_LOGGING_SPEC="$LOG_SPEC" MTRACE_HOME="$H" MTRACE_PEER="$n" \
		CORE_PEER_ID="${HOST[$n]}" \
		CORE_PEER_LOCALMSPID="${MSP[$n]}" \
		CORE_PEER_MSPCONFIGPATH="$d/msp" \
		CORE_PEER_ADDRESS="$addr" \
		CORE_PEER_LISTENADDRESS="$addr" \
		CORE_PEER_GOSSIP_BOOTSTRAP="$addr" \
		CORE_PEER_GOSSIP_EXTERNALENDPOINT="$addr" \
		CORE_PEER_GOSSIP_RECONNECTINTERVAL=2s \
		CORE_PEER_CHAINCODEADDRESS="$cc" \
		CORE_PEER_CHAINCODELISTENADDRESS="$cc" \
		CORE_PEER_TLS_ENABLED=true \
		CORE_PEER_TLS_CERT_FILE="$d/tls/server.crt" \
		CORE_PEER_TLS_KEY_FILE="$d/tls/server.key" \
		CORE_PEER_TLS_ROOTCERT_FILE="$d/tls/ca.crt" \
		CORE_PEER_FILESYSTEMPATH="$H/data/$n" \
		CORE_LEDGER_SNAPSHOTS_ROOTDIR="$H/data/$n/snapshots" \
		CORE_OPERATIONS_LISTENADDRESS="127.0.0.1:${OPORT[$n]}" \
		CORE_METRICS_PROVIDER=prometheus \
		CORE_VM_ENDPOINT= \
		setsid "$BIN/peer" node start </dev/null >>"$H/logs/$n.log" 2>&1 &
	echo "$!" >"$H/pids/$n.pid"
	STARTED+=("$n")
}

# start_ca CA: an organisation's Fabric CA server (network/pki wrote its
# config into ca/<org>; it keeps its keys and database there).
start_ca() {
	env MTRACE_HOME="$H" setsid "$BIN/fabric-ca-server" start -H "$H/ca/${1#ca-}" </dev/null >>"$H/logs/$1.log" 2>&1 &
	echo "$!" >"$H/pids/$1.pid"
	STARTED+=("$1")
}

# start_nodes NODE...: start the nodes that are not running, then wait
# until each answers /healthz.
start_nodes() {
	local n port todo=()
	for n in "$@"; do
		running "$n" && continue
		for port in "${PORT[$n]}" "${APORT[$n]}" "${OPORT[$n]}"; do
			port_busy "$port" && fail "cannot start $n: port 127.0.0.1:$port is already in use"
		done
		todo+=("$n")
	done
	for n in "${todo[@]}"; do
		case $n in ca-*) start_ca "$n" ;; *-orderer) start_orderer "$n" ;; *) start_peer "$n" ;; esac
	done
	((${#todo[@]} == 0)) || net wait healthy "${todo[@]}" || fail "not every one of ${todo[*]} started"
}

# starting PID: the process is alive and not a zombie. Right after the
# fork its command line may still be env or setsid rather than the node, so
# `running` (which checks the command line) would misjudge it.
# A zombie leader whose other threads are still exiting counts as running:
# they share its files, and so hold its ports.
starting() {
	local state t
	[[ -r /proc/$1/stat ]] || return 1
	read -r _ _ state _ <"/proc/$1/stat" 2>/dev/null || return 1
	[[ $state != Z ]] && return 0
	for t in /proc/"$1"/task/*; do
		[[ ${t##*/} != "$1" && -e $t ]] && return 0
	done
	return 1
}

# The waits are mtrace-net's: until nodes answer /healthz (failing with the
# log's tail when one exits), until a quorum of the BFT consenters agree on
# a leader, until every peer sees
# the others through gossip (service discovery, and so the gateway's choice
# of endorsers for policies that need a second organisation, relies on it).
wait_leader() { net wait leader || fail "the orderers elected no leader"; }
wait_gossip() { net wait gossip || fail "gossip has not settled"; }

# refresh_gateways: restart the peers one at a time, so that each one's
# gateway reads the channel's orderers anew. Fabric v3.1.1's peer opens the
# channels it has (internal/peer/node/start.go:791, peerInstance.Initialize)
# before the gateway asks to hear of configuration changes (start.go:904,
# gateway.CreateServer; internal/pkg/gateway/gateway.go:89), so the gateway
# of a peer that had the channel when it started keeps the orderers it
# first read until the peer restarts. After remove-org it would go on
# sending every transaction to the departed member's orderer and count
# that orderer in the BFT quorum of each submission.
refresh_gateways() {
	local p
	for p in "${PEERS[@]}"; do
		stop_nodes "cc-$p" "$p"
		start_nodes "$p"
		STARTED=() # a peer of the network, not of this run
	done
	net wait level "${PEERS[@]}" --timeout 2m || fail_step "the peers did not catch up after their restart"
	wait_gossip
	say "gateways: ${PEERS[*]} restarted, their gateways hold the channel's orderers"
}

# stop_nodes NODE...: TERM, wait up to 10 s, then KILL; only PIDs that are
# still ours.
stop_nodes() {
	local n pid i alive victims=()
	for n in "$@"; do
		pid=$(pid_of "$n") || continue
		# The record goes before the signal: a peer may relaunch its
		# chaincode the moment the old one exits, and the new run script's
		# record must not be removed after it is written.
		rm -f "$H/pids/$n.pid"
		if ours "$pid" "$n"; then
			kill -TERM "$pid" 2>/dev/null || true
			victims+=("$n:$pid")
		fi
	done
	for ((i = 0; i < 100; i++)); do
		alive=0
		for n in "${victims[@]}"; do
			starting "${n#*:}" && alive=1 # a zombie has stopped too
		done
		((alive)) || return 0
		sleep 0.1
	done
	for n in "${victims[@]}"; do
		if ours "${n#*:}" "${n%%:*}"; then
			say "killing ${n%%:*} (PID ${n#*:}), which ignored TERM"
			kill -KILL "${n#*:}" 2>/dev/null || true
		fi
	done
}

all_nodes() { printf '%s\n' "${CAS[@]}" "${ORDERERS[@]}" "${PEERS[@]}"; }
# cc_nodes: every peer's chaincode process, cc-<peer>, and those of any
# other chaincode deployed beside mtrace (a bench network's baseline),
# cc-<peer>-<name>: their packages are in cc/.
cc_nodes() {
	local p f name
	for p in "${PEERS[@]}"; do
		echo "cc-$p"
		for f in "$H"/cc/*.tar.gz; do
			[[ -f $f ]] || continue
			name=$(basename "$f" .tar.gz)
			[[ $name == "$CC" ]] || echo "cc-$p-$name"
		done
	done
}

on_exit() {
	local rc=$? n ccs=()
	if ((rc != 0 && ${#STARTED[@]} > 0)); then
		say "network.sh: stopping the ${#STARTED[@]} nodes this run started" >&2
		for n in "${STARTED[@]}"; do
			[[ $n == ca-* ]] || is_orderer "$n" || ccs+=("cc-$n")
		done
		stop_nodes "${STARTED[@]}" "${ccs[@]}"
	fi
}

# --- creation ----------------------------------------------------------------

write_config() {
	net fabric-config --tools "$root/network/tools" --builder "$root/network/builder" ||
		fail "writing the nodes' orderer.yaml and core.yaml failed"
}

create() {
	say "creating the network in $H (base port $B, consensus ${MTRACE_CONSENSUS:-of the consortium file})"
	mkdir -p "$H"/{artifacts,logs,pids,data}
	echo "$B" >"$H/base-port"
	"$BIN/mtrace-net" init --from "${MTRACE_TOPOLOGY:-$root/network/consortium.yaml}" \
		${MTRACE_CHANNEL:+--channel "$MTRACE_CHANNEL"} ${MTRACE_CONSENSUS:+--consensus "$MTRACE_CONSENSUS"} ||
		fail "the consortium file is not valid"
	load_topology
	echo "$CHANNEL" >"$H/channel"
	net ca-config || fail "writing the CA servers' config failed"
}

# identities [ORG...]: start the organisations' CAs; enrol what is missing
# from them into crypto/ and put each organisation's CRL into its MSPs.
identities() {
	# shellcheck disable=SC2046
	start_nodes $(printf 'ca-%s\n' "${@:-${CAS[@]#ca-}}")
	{ net enroll "$@" && net crls; } || fail "enrolment from the Fabric CAs failed (logs/ca-*.log)"
}

# genesis: every organisation's member card from its MSP folders, and the
# channel's first block built from the cards by network/member's Genesis,
# as members on their own hosts build it (mtrace-org genesis).
genesis() { net genesis || fail "building the genesis block from the members' cards failed"; }

# The organisations' own steps (network/member, run by mtrace-net as
# each organisation's admin, the same code as mtrace-org runs for a
# member on its own host): join_orderers joins every orderer with the
# genesis block through its participation API, side by side (a
# consenter's join returns once its chain has started, which includes
# asking the other orderers for blocks they might have, SyncOnStart, and
# waiting up to the cluster's pull timeout for those not yet joined; side
# by side the waits overlap); join_orderer ORDERER BLOCK joins one with
# BLOCK, the latest config block, for an orderer that joins a running
# channel; join_peers joins the peers named (default every one) from the
# genesis block; bootstrap writes the registry's first entries from the
# organisations' cards.
join_orderers() { net join orderer >/dev/null || fail "not every orderer joined channel $CHANNEL"; }
join_orderer() { net join orderer "${1%-orderer}" --block "$2" || fail "$1 could not join channel $CHANNEL"; }
join_peers() { net join peer "$@" >/dev/null; }

bootstrap() {
	net bootstrap || fail "BootstrapRegistry failed"
	touch "$H/.bootstrapped"
}

# --- chaincode ----------------------------------------------------------------

# deploy [NAME MAIN]: build the chaincode (mtrace from
# ./chaincode/cmd/mtrace-cc, or chaincode NAME from Go main package MAIN);
# mtrace-net packages it into cc/NAME.tar.gz (the binary as NAME-cc, which
# the external builder runs, network/builder/bin) and, when the package
# or the policy differs from the committed definition's, has every
# organisation install and approve the next sequence and commits it.
deploy() {
	local CC=${1:-$CC} main=${2:-./chaincode/cmd/mtrace-cc} src=$root w
	[[ $CC =~ ^[a-z0-9][a-z0-9-]*$ ]] || fail "chaincode name '$CC': lower-case letters, digits and -"
	# MTRACE_CC_SRC (the upgrade test's older release) applies to mtrace only.
	[[ $CC == mtrace ]] && src=${MTRACE_CC_SRC:-$root}
	w=$H/cc/work-$CC
	rm -rf "$w"
	mkdir -p "$w"
	(cd "$src" && go build -trimpath -buildvcs=false -o "$w/$CC-cc" "$main") ||
		fail "chaincode $CC build failed"
	say "chaincode $CC built ($(since))"
	# Every organisation installs and approves as its own admin, and the
	# first commits, through network/member (mtrace-net deploy): the next
	# sequence when the package or the policy changed, nothing otherwise.
	net deploy --name "$CC" --binary "$w/$CC-cc" --policy "$POLICY" || fail "deploying chaincode $CC failed"
	say "chaincode $CC ready ($(since))"
}

# --- commands -------------------------------------------------------------------

check_home() {
	local b
	b=$(cat "$H/base-port" 2>/dev/null || echo "$B")
	[[ $b == "$B" ]] || fail "the network in $H was created with MTRACE_BASE_PORT=$b, not $B"
	[[ -z ${MTRACE_CHANNEL:-} || $MTRACE_CHANNEL == "$CHANNEL" ]] ||
		fail "the network in $H was created with channel $CHANNEL, not MTRACE_CHANNEL=$MTRACE_CHANNEL"
	[[ -z ${MTRACE_CONSENSUS:-} || $MTRACE_CONSENSUS == "$CONSENSUS" ]] ||
		fail "the network in $H was created with consensus $CONSENSUS, not MTRACE_CONSENSUS=$MTRACE_CONSENSUS"
}

# have_topology: load the network's consortium file, if it has one. A
# network made before the file existed is today's default consortium: it
# gets the default file, with its channel.
have_topology() {
	[[ -f $H/base-port ]] || return 1
	if [[ ! -f $TOPO ]]; then
		"$BIN/mtrace-net" init --from "$root/network/consortium.yaml" --channel "$(cat "$H/channel")" ||
			fail "cannot write $TOPO"
	fi
	load_topology
}

# is_home: MTRACE_HOME is empty or was made by this script, so it may be
# deleted.
is_home() { [[ -f $H/base-port || -z $(ls -A "$H") ]]; }

cmd_up() {
	local n all=1 fresh=0
	trap on_exit EXIT
	"$root/scripts/build-fabric.sh" >/dev/null || fail "building the Fabric binaries failed"
	if [[ -d $H && ! -f $H/.ready ]]; then
		have_topology || true
		is_home || fail "$H exists and is not an mtrace network folder; choose another MTRACE_HOME"
		for n in $(all_nodes) $(cc_nodes); do
			running "$n" && fail "$H holds an unfinished network whose $n is running; run 'network.sh down --purge'"
		done
		say "removing the unfinished network in $H"
		rm -rf "$H"
	fi
	if [[ -f $H/.ready ]]; then
		have_topology
		check_home
		for n in $(all_nodes); do running "$n" || all=0; done
		if ((all)); then
			say "network already running in $H"
			say "export MTRACE_CONFIG=$H/config.yaml"
			return 0
		fi
	else
		fresh=1
		create
	fi
	mkdir -p "$H"/{logs,pids,data}
	[[ -d $H/ca || ! -d $CRYPTO ]] || fail "$H holds a network with cryptogen identities; run 'network.sh down --purge' first"
	identities
	say "identities from ${#CAS[@]} Fabric CAs ($(since))"
	((fresh)) && genesis
	write_config
	# shellcheck disable=SC2046
	start_nodes $(all_nodes)
	say "nodes healthy ($(since))"
	((fresh)) && join_orderers
	wait_leader
	if [[ $CONSENSUS == raft ]]; then
		say "orderers have a Raft leader ($(since))"
	else
		say "orderers agree on a BFT leader ($(since))"
	fi
	if ((fresh)); then
		join_peers || fail "not every peer joined channel $CHANNEL"
		say "channel $CHANNEL joined ($(since))"
	fi
	deploy
	if [[ ! -f $H/.bootstrapped ]]; then
		bootstrap
		say "registry bootstrapped ($(since))"
	fi
	wait_gossip
	net profiles
	touch "$H/.ready"
	STARTED=()
	say "network ready in $(since)"
	say "export MTRACE_CONFIG=$H/config.yaml"
}

cmd_down() {
	local purge=0
	[[ ${1:-} == --purge ]] && purge=1
	[[ -d $H ]] || {
		say "no network in $H"
		return 0
	}
	have_topology || true
	# shellcheck disable=SC2046
	stop_nodes $(cc_nodes) $(all_nodes)
	if ((purge)); then
		is_home || fail "$H is not an mtrace network folder; not removing it"
		rm -rf "$H"
		say "network stopped and $H removed"
	else
		say "network stopped; ledgers kept in $H"
	fi
}

cmd_status() {
	local n
	have_topology || fail "no network in $H"
	say "consensus $CONSENSUS"
	printf '%-24s %-6s %s\n' NODE STATE PID
	for n in $(all_nodes) $(cc_nodes); do
		if running "$n"; then
			printf '%-24s %-6s %s\n' "$n" up "$(pid_of "$n")"
		else
			printf '%-24s %-6s %s\n' "$n" down -
		fi
	done
	echo
	net orderers
	echo
	net peers --chaincode "$CC"
	echo
	net certs
}

cmd_deploy() {
	local p
	(($# == 0 || $# == 2)) || fail "usage: network.sh deploy [NAME MAIN]"
	[[ -f $H/.ready ]] || fail "no network in $H; run 'network.sh up'"
	have_topology
	check_home
	for p in "${PEERS[@]}"; do running "$p" || fail "peer $p is not running; run 'network.sh up'"; done
	deploy "$@"
}

cmd_stop() {
	local n
	have_topology || fail "no network in $H"
	(($# > 0)) || fail "usage: network.sh stop NODE... (${ORDERERS[*]}, ${PEERS[*]}, cc-<peer>)"
	for n in "$@"; do
		[[ " $(all_nodes | tr '\n' ' ') $(cc_nodes | tr '\n' ' ') " == *" $n "* ]] || fail "unknown node $n"
		running "$n" || say "$n is not running"
	done
	stop_nodes "$@"
	say "stopped: $*"
}

cmd_logs() {
	[[ -d $H/logs ]] || fail "no logs in $H"
	if [[ -n ${1:-} ]]; then
		[[ -f $H/logs/$1.log ]] || fail "no log for $1 in $H/logs"
		exec tail -n 50 -F "$H/logs/$1.log"
	fi
	exec tail -n 5 -F "$H"/logs/*.log
}

# --- membership ---------------------------------------------------------------

# no_raft CMD: membership changes are for BFT networks; a Raft network is
# a benchmark's comparison only (docs/reference/bench.md).
no_raft() {
	[[ $CONSENSUS != raft ]] || fail "$1: raft networks are for benchmarks only; membership changes need a BFT network (MTRACE_CONSENSUS=bft, the default)"
}

# step NAME: say which step runs; a failure names it (on_exit).
STEP=""
step() { STEP=$1; }
fail_step() { fail "add-org/remove-org step '$STEP' failed: $*"; }

abandon_join() {
	[[ -f $H/joining.yaml ]] || return 0
	rm -f "$H/joining.yaml"
	if [[ -n $1 && -d $H/data/$1 ]] && ! running "$1"; then
		rm -rf "${H:?}/data/$1"
	fi
}

cmd_add_org() {
	local msp="" role="" name="" signers="" out next=$H/joining.yaml
	node=""
	while (($# > 0)); do
		case $1 in
		--msp) msp=$2 ;;
		--role) role=$2 ;;
		--name) name=$2 ;;
		--node) node=$2 ;;
		--signers) signers=$2 ;;
		*) fail "usage: network.sh add-org --msp ID --role ROLE --name TEXT [--node NAME] [--signers NODE,...]" ;;
		esac
		shift 2 || fail "$1 needs a value"
	done
	[[ -f $H/.ready ]] || fail "no network in $H; run 'network.sh up' first"
	have_topology
	check_home
	no_raft add-org
	# Until the channel step succeeds, a failure stops the new peer and
	# deletes its data folder (it holds no ledger yet) and the topology
	# copy that names it: the network is as it was.
	trap 'on_exit; abandon_join "$node"' EXIT

	step topology
	out=$(net org add --msp "$msp" --role "$role" --name "$name" ${node:+--node "$node"} --out "$next") ||
		fail_step "the new organisation's entry is not valid"
	read -r node out <<<"$out"
	if [[ $out == present ]]; then
		rm -f "$next"
		next=$TOPO
		say "topology: $msp is already in the consortium as node $node"
	else
		TOPO=$next
		load_topology
		say "topology: $msp joins as node $node (peer ${HOST[$node]}, ports ${PORT[$node]} ${APORT[$node]} ${OPORT[$node]})"
	fi

	for n in $(all_nodes); do
		[[ $n == "$node" || $n == "$node-orderer" || $n == "ca-$node" ]] || running "$n" || fail_step "$n is not running; run 'network.sh up' first"
	done

	# The newcomer's own Fabric CA issues its peer's, orderer's, Admin's and
	# User1's certificates into the same MSP folder layout, which the later
	# steps read.
	step identities
	net ca-config "$node" || fail_step "cannot write the CA server's config"
	identities "$node"
	say "identities: $msp's CA ca-$node (127.0.0.1:${PORT[ca-$node]}) issued its peer, orderer, Admin and User1"

	step nodes
	if running "$node" && running "$node-orderer"; then
		say "nodes: $node and $node-orderer are already running"
	else
		write_config
		start_nodes "$node-orderer" "$node"
		say "nodes: ${HOST[$node-orderer]} on 127.0.0.1:${PORT[$node-orderer]} and ${HOST[$node]} on 127.0.0.1:${PORT[$node]} started ($(since))"
	fi

	# The only step that changes the channel: one config transaction, which
	# the orderers apply whole or refuse whole. It adds the organisation to
	# the application and orderer groups and its orderer to the SmartBFT
	# consenters, with the block validation policy for the new set.
	step channel
	net channel add-org "$node" ${signers:+--signers "$signers"} || fail_step "the channel is unchanged"

	# The new consenter joins with the latest config block, which names it;
	# it fetches the earlier blocks from the other orderers.
	step orderer
	net fetch-config --out "$H/artifacts/config-$node.block" || fail_step "cannot fetch the config block"
	join_orderer "$node-orderer" "$H/artifacts/config-$node.block"
	say "orderer: $node-orderer is a consenter of channel $CHANNEL ($(since))"
	if [[ $next != "$H/consortium.yaml" ]]; then
		mv "$next" "$H/consortium.yaml"
		TOPO=$H/consortium.yaml
	fi
	STARTED=() # the peer belongs to the network now

	step join
	mkdir -p "$H/logs/cli"
	join_peers "$node" >"$H/logs/cli/join-$node.log" 2>&1 || fail_step "$node could not join (logs/cli/join-$node.log)"
	say "join: $node has channel $CHANNEL, joined from its genesis block"
	net wait level "$node" --timeout 2m || fail_step "$node did not catch up"
	say "join: $node has caught up ($(since))"

	step chaincode
	deploy

	# The registry entry through the governed vote: an admin of a member
	# proposes it, admins of a majority approve it (mtrace-net runs the
	# mtrace CLI with their profiles).
	step registry
	net profiles
	net registry set --msp "$msp" --role "$role" --name "$name" || fail_step "the registry vote did not pass"

	step gossip
	wait_gossip
	say "add-org: $msp is a member: channel, chaincode and registry ($(since))"
}

cmd_remove_org() {
	local key=${1:-} signers="" node next=$H/leaving.yaml
	[[ -n $key && $key != --* ]] || fail "usage: network.sh remove-org NODE [--signers NODE,...]"
	shift
	[[ ${1:-} == --signers ]] && signers=${2:-}
	[[ -f $H/.ready ]] || fail "no network in $H"
	have_topology
	check_home
	no_raft remove-org
	trap 'on_exit; rm -f "$H/leaving.yaml"' EXIT
	node=""
	for p in "${PEERS[@]}"; do
		[[ $p == "$key" || ${MSP[$p]} == "$key" ]] && node=$p
	done
	[[ -n $node ]] || fail "no organisation $key in $TOPO"
	net org remove "$node" --out "$next" || fail "$key cannot leave the consortium"
	local msp=${MSP[$node]} full=$TOPO

	step registry
	net registry remove --msp "$msp" || fail_step "the registry vote did not pass"

	# The chaincode definition must stop naming the leaving peer before
	# the channel forgets it; the others approve the new sequence.
	step chaincode
	TOPO=$next
	load_topology
	deploy

	step channel
	"$BIN/mtrace-net" -t "$full" channel remove-org "$node" ${signers:+--signers "$signers"} ||
		fail_step "the channel is unchanged"
	mv "$next" "$H/consortium.yaml"
	TOPO=$H/consortium.yaml

	step stop
	(
		TOPO=$full
		load_topology
		stop_nodes "cc-$node" "$node" "$node-orderer" "ca-$node"
	)
	step gateways
	refresh_gateways
	net profiles
	say "remove-org: $msp left the registry, the chaincode definition and the channel; its ledger stays in $H/data/$node and its MSP in $(org_dir "$node")"
}

case ${1:-} in
up | down | status | deploy | stop | add-org | remove-org) build_net ;;
esac
case ${1:-} in
up) cmd_up ;;
down) cmd_down "${2:-}" ;;
status) cmd_status ;;
deploy) shift && cmd_deploy "$@" ;;
stop) shift && cmd_stop "$@" ;;
logs) cmd_logs "${2:-}" ;;
add-org) shift && cmd_add_org "$@" ;;
remove-org) shift && cmd_remove_org "$@" ;;
*)
	sed -n '2,/^set /s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
	;;
esac
