#!/usr/bin/env bash
# migrate-bft.sh: move a network made by the previous release (OrdererOrg
# running three Raft orderers) to this release's layout in place: one
# SmartBFT orderer per member, issued by the member's own CA; the ledger
# is kept. docs/how-to/migrate-raft-to-bft.md explains the steps and the
# downtime.
#
#   migrate-bft.sh            run (or resume) the migration of MTRACE_HOME
#
# Each step records itself in MTRACE_HOME/migrate-bft/done; the config
# updates (bin/mtrace-net migrate-bft ...) also check the channel's state
# and find themselves done, so the script can be re-run after a crash.
# Processes are started and stopped by their recorded PIDs.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
H=${MTRACE_HOME:-$root/.mtrace}
B=${MTRACE_BASE_PORT:-27000}
BIN=$root/bin
LOG_SPEC=${MTRACE_LOG_SPEC:-grpc=warning:info}
export PATH="$BIN:$PATH" MTRACE_HOME=$H MTRACE_BASE_PORT=$B
M=$H/migrate-bft
O=$H/crypto/ordererOrganizations/orderer.mtrace.local
OLD=(orderer1 orderer2 orderer3 orderer4)
T0=$EPOCHREALTIME

say() { printf 'migrate-bft: %s (%s)\n' "$1" "$(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }')"; }
fail() {
	printf 'migrate-bft: %s\n' "$*" >&2
	exit 1
}
net() { "$BIN/mtrace-net" --home "$H" --base "$B" "$@"; }
done_step() { [[ -f $M/done/$1 ]]; }
mark() { touch "$M/done/$1"; }

# ours PID: the process is an orderer, peer, CA or chaincode of this home.
ours() {
	local v vars
	[[ $1 =~ ^[0-9]+$ && -r /proc/$1/environ ]] || return 1
	mapfile -d '' -t vars <"/proc/$1/environ" 2>/dev/null || return 1
	for v in "${vars[@]}"; do
		[[ $v == "MTRACE_HOME=$H" ]] && return 0
	done
	return 1
}

# stop NAME...: TERM each recorded process of this home, wait for it.
stop() {
	local n pid
	for n in "$@"; do
		[[ -f $H/pids/$n.pid ]] || continue
		pid=$(<"$H/pids/$n.pid")
		if ours "$pid"; then
			kill -TERM "$pid" 2>/dev/null || true
			while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
		fi
		rm -f "$H/pids/$n.pid"
	done
}

running() { [[ -f $H/pids/$1.pid ]] && ours "$(<"$H/pids/$1.pid")"; }

# orderer NAME MSP DIR SLOT: start an orderer (the same settings as
# network.sh's) on base+SLOT, admin base+10+SLOT, operations base+20+SLOT,
# trusting every organisation's TLS CA for clients (during the move the
# two layouts' orderers talk to each other).
orderer() {
	local o=$1 msp=$2 d=$3 s=$4 roots
	running "$o" && return 0
	roots=$(printf '%s\n' "$H"/crypto/*/*/tlsca/*-cert.pem | paste -sd,)
	mkdir -p "$H/data/$o"
	env FABRIC_CFG_PATH="$H/config" FABRIC_LOGGING_SPEC="$LOG_SPEC" MTRACE_HOME="$H" \
		ORDERER_GENERAL_LISTENADDRESS=127.0.0.1 ORDERER_GENERAL_LISTENPORT=$((B + s)) \
		ORDERER_GENERAL_LOCALMSPID="$msp" ORDERER_GENERAL_LOCALMSPDIR="$d/msp" \
		ORDERER_GENERAL_BOOTSTRAPMETHOD=none ORDERER_GENERAL_TLS_ENABLED=true \
		ORDERER_GENERAL_TLS_CERTIFICATE="$d/tls/server.crt" ORDERER_GENERAL_TLS_PRIVATEKEY="$d/tls/server.key" \
		ORDERER_GENERAL_TLS_ROOTCAS="[$d/tls/ca.crt]" ORDERER_GENERAL_TLS_CLIENTAUTHREQUIRED=true \
		ORDERER_GENERAL_TLS_CLIENTROOTCAS="[$roots]" ORDERER_CHANNELPARTICIPATION_ENABLED=true \
		ORDERER_GENERAL_CLUSTER_REPLICATIONPOLICY=simple \
		ORDERER_FILELEDGER_LOCATION="$H/data/$o/ledger" ORDERER_CONSENSUS_WALDIR="$H/data/$o/wal" \
		ORDERER_CONSENSUS_SNAPDIR="$H/data/$o/snap" \
		ORDERER_OPERATIONS_LISTENADDRESS=127.0.0.1:$((B + 20 + s)) ORDERER_METRICS_PROVIDER=prometheus \
		ORDERER_ADMIN_LISTENADDRESS=127.0.0.1:$((B + 10 + s)) ORDERER_ADMIN_TLS_ENABLED=true \
		ORDERER_ADMIN_TLS_CERTIFICATE="$d/tls/server.crt" ORDERER_ADMIN_TLS_PRIVATEKEY="$d/tls/server.key" \
		ORDERER_ADMIN_TLS_ROOTCAS="[$d/tls/ca.crt]" ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED=true \
		ORDERER_ADMIN_TLS_CLIENTROOTCAS="[$d/tls/ca.crt]" \
		setsid "$BIN/orderer" </dev/null >>"$H/logs/$o.log" 2>&1 &
	echo "$!" >"$H/pids/$o.pid"
}

old_dir() { echo "$O/orderers/$1.orderer.mtrace.local"; }
start_old() { orderer "$1" OrdererMSP "$(old_dir "$1")" $((${1#orderer} - 1)); }

# osn DIR-OF-ORG DOMAIN SLOT ARGS...: osnadmin on the orderer in SLOT as
# the organisation's admin.
osn() {
	local org=$1 dom=$2 s=$3
	shift 3
	osnadmin channel "$@" --channelID "$CHANNEL" -o 127.0.0.1:$((B + 10 + s)) \
		--ca-file "$org/tlsca/tlsca.$dom-cert.pem" \
		--client-cert "$org/users/Admin@$dom/tls/client.crt" --client-key "$org/users/Admin@$dom/tls/client.key"
}

# join ORG-DIR DOMAIN SLOT: join the orderer in SLOT with the channel's
# last config block, unless it has joined; wait until it is active.
join() {
	local i
	if ! osn "$@" list 2>/dev/null | grep -q '"name"'; then
		net migrate-bft config-block "$M/join.block"
		osn "$@" join --config-block "$M/join.block" >/dev/null
	fi
	for ((i = 0; i < 240; i++)); do
		osn "$@" list 2>/dev/null | grep -q '"active"' && return 0
		sleep 0.5
	done
	fail "the orderer on port $((B + $3)) did not become active; see its log"
}

# healthy PORT: the orderer's operations endpoint answers.
healthy() {
	local i
	for ((i = 0; i < 200; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	fail "nothing answers on 127.0.0.1:$1"
}

[[ -f $H/consortium.yaml ]] || fail "no network in $H"
mkdir -p "$M/done"
CHANNEL=$(sed -n 's/^channel: *//p' "$H/consortium.yaml")
if ! grep -q '^orderers:' "$H/consortium.yaml" && ! done_step handover; then
	done_step topology || fail "$H is not a network of the previous release (its consortium file has no orderers section)"
fi

# 1. The new layout's consortium file; each member's CA issues its orderer.
if ! done_step topology; then
	net migrate-bft topology
	net -t "$M/consortium.yaml" enroll
	mark topology
	say "members' orderer identities issued by their own CAs"
fi

# 2. Grow Raft to four nodes: BFT needs the same nodes as Raft, and four
# to tolerate a fault. OrdererOrg's CA issues orderer4.
if ! done_step grow; then
	net migrate-bft enrol-orderer orderer4
	net migrate-bft add-raft "127.0.0.1:$((B + 3))" "$(old_dir orderer4)/tls/server.crt"
	start_old orderer4
	healthy $((B + 23))
	join "$O" orderer.mtrace.local 3
	mark grow
	say "Raft grown to four nodes"
fi

# 3. Maintenance; stop, back up and start the orderers; BFT; restart;
# normal. No transaction is ordered from here until 'normal'.
if ! done_step bft; then
	net migrate-bft maintenance
	say "maintenance mode: no transactions are ordered from now"
	if [[ ! -d $M/backup ]]; then
		stop "${OLD[@]}"
		mkdir -p "$M/backup.tmp"
		for o in "${OLD[@]}"; do cp -a "$H/data/$o" "$M/backup.tmp/"; done
		mv "$M/backup.tmp" "$M/backup"
		say "orderers stopped and their ledgers backed up in $M/backup"
	fi
	for o in "${OLD[@]}"; do start_old "$o"; done
	for o in "${OLD[@]}"; do healthy $((B + 20 + ${o#orderer} - 1)); done
	ids=()
	for o in "${OLD[@]}"; do
		ids+=("127.0.0.1:$((B + ${o#orderer} - 1))=OrdererMSP:$(printf '%s' "$(old_dir "$o")"/msp/signcerts/*.pem)")
	done
	net migrate-bft to-bft "${ids[@]}"
	stop "${OLD[@]}"
	for o in "${OLD[@]}"; do start_old "$o"; done
	for o in "${OLD[@]}"; do healthy $((B + 20 + ${o#orderer} - 1)); done
	net migrate-bft normal
	mark bft
	say "BFT on OrdererOrg's four nodes, normal mode: transactions are ordered again"
fi

# 4. Move the consenters to the members, one at a time: OrdererOrg's node
# on the member's port leaves (four consenters become three), the
# member's orderer starts there, joins and becomes a consenter (four).
while read -r kind name msp _ port _ _; do
	[[ $kind == orderer ]] || continue
	org=${name%-orderer}
	done_step "member-$org" && continue
	s=$((port - B))
	old=orderer$((s + 1))
	# A peer that has not read the last move's config block would check
	# the node that now takes this port against the old TLS CA, and never
	# catch up.
	net migrate-bft wait-peers
	net migrate-bft remove-consenter "127.0.0.1:$port"
	stop "$old"
	dir=$H/crypto/peerOrganizations/$org.mtrace.local
	orderer "$name" "$msp" "$dir/orderers/orderer0.$org.mtrace.local" "$s"
	healthy $((B + 20 + s))
	net migrate-bft add-member "$org"
	join "$dir" "$org.mtrace.local" "$s"
	mark "member-$org"
	say "$msp's orderer is a consenter"
done < <(net -t "$M/consortium.yaml" nodes)
net migrate-bft remove-ordererorg
net migrate-bft wait-peers
stop "${OLD[@]}" ca-orderer

# 5. Hand over to this release's network.sh: the new consortium file,
# every process restarted with this release's configuration and profiles.
if ! done_step handover; then
	[[ -f $M/consortium.raft.yaml ]] || cp "$H/consortium.yaml" "$M/consortium.raft.yaml"
	for f in "$H"/pids/*.pid; do
		[[ -e $f ]] || continue
		n=$(basename "$f" .pid)
		stop "$n"
	done
	cp "$M/consortium.yaml" "$H/consortium.yaml"
	"$root/scripts/network.sh" up
	mark handover
	say "handed over to network.sh"
fi
net migrate-bft status
