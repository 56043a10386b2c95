#!/usr/bin/env bash
# network.sh: the local mtrace Fabric network, run as native processes.
#
#   network.sh up               create, or restart, the network and deploy the chaincode
#   network.sh down [--purge]   stop every process by its recorded PID (--purge: delete MTRACE_HOME)
#   network.sh status           processes, block heights, committed chaincode
#   network.sh deploy           build the chaincode; install, approve and commit it if it changed
#   network.sh stop NODE...     stop single nodes (fault tests); 'up' starts them again
#   network.sh logs [node]      follow the logs (orderer1..3, municipality, recycler, maker,
#                               auditor, cc-<peer>)
#
# Environment: MTRACE_HOME (runtime folder, default <repo>/.mtrace),
# MTRACE_BASE_PORT (default 27000), MTRACE_CHANNEL (default circular),
# MTRACE_LOG_SPEC (Fabric logging spec for the nodes, default grpc=warning:info),
# MTRACE_CC_SRC (module root that deploy builds the chaincode from, default the
# repository; the upgrade test points it at an older release).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
H=${MTRACE_HOME:-$root/.mtrace}
B=${MTRACE_BASE_PORT:-27000}
CHANNEL=${MTRACE_CHANNEL:-circular}
LOG_SPEC=${MTRACE_LOG_SPEC:-grpc=warning:info}
CC=mtrace
BIN=$root/bin
export PATH="$BIN:$PATH"

CRYPTO=$H/crypto
OORG=$CRYPTO/ordererOrganizations/orderer.mtrace.local
OTLSCA=$OORG/tlsca/tlsca.orderer.mtrace.local-cert.pem

ORDERERS=(orderer1 orderer2 orderer3)
PEERS=(municipality recycler maker auditor)
declare -A IDX=([municipality]=0 [recycler]=1 [maker]=2 [auditor]=3)
declare -A MSP=([municipality]=MunicipalityMSP [recycler]=RecyclerMSP [maker]=MakerMSP [auditor]=AuditorMSP)
# The chaincode-level endorsement policy governs keys without a key-level
# policy, above all every key a transaction creates: peers of two member
# organisations, so no organisation alone can create a batch, a process
# record or an index entry (chaincode/README.md, "Trust model").
# MTRACE_CC_POLICY overrides it (benchmarks compare designs with it).
POLICY=${MTRACE_CC_POLICY:-"OutOf(2,'MunicipalityMSP.peer','RecyclerMSP.peer','MakerMSP.peer','AuditorMSP.peer')"}
PARTICIPANTS='[{"msp":"MunicipalityMSP","role":"collector","name":"Istanbul Metropolitan Municipality - waste services"},{"msp":"RecyclerMSP","role":"recycler","name":"Marmara Polymer Recycling"},{"msp":"MakerMSP","role":"maker","name":"Kadikoy Makerspace"},{"msp":"AuditorMSP","role":"auditor","name":"Circular Materials Certification"}]'

STARTED=() # nodes this run started; stopped again if the run fails

T0=$EPOCHREALTIME
say() { printf '%s\n' "$*"; }
# since: seconds since the script started, to one decimal.
since() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }'; }
fail() {
	printf 'network.sh: %s\n' "$*" >&2
	exit 1
}

# --- ports and paths -------------------------------------------------------

ord_n() { echo "${1#orderer}"; }
ord_port() { echo $((B + $(ord_n "$1") - 1)); }
ord_admin_port() { echo $((B + 10 + $(ord_n "$1") - 1)); }
ord_ops_port() { echo $((B + 20 + $(ord_n "$1") - 1)); }
peer_port() { echo $((B + 100 + IDX[$1])); }
peer_cc_port() { echo $((B + 110 + IDX[$1])); }
peer_ops_port() { echo $((B + 120 + IDX[$1])); }
ops_port() { if [[ $1 == orderer* ]]; then ord_ops_port "$1"; else peer_ops_port "$1"; fi; }
org_dir() { echo "$CRYPTO/peerOrganizations/$1.mtrace.local"; }
ord_dir() { echo "$OORG/orderers/$1.orderer.mtrace.local"; }
peer_dir() { echo "$(org_dir "$1")/peers/peer0.$1.mtrace.local"; }
tlsca() { echo "$(org_dir "$1")/tlsca/tlsca.$1.mtrace.local-cert.pem"; }

# --- processes ---------------------------------------------------------------

# ours PID NODE: the PID is alive and is that node of this MTRACE_HOME.
ours() {
	local pid=$1 node=$2 cmd
	[[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	case $node in
	orderer*) [[ $cmd == "$BIN/orderer "* ]] || return 1 ;;
	cc-*) [[ $cmd == *"mtrace-cc -peer-config "* ]] || return 1 ;;
	*) [[ $cmd == "$BIN/peer node start "* ]] || return 1 ;;
	esac
	tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "MTRACE_HOME=$H"
}

pid_of() { [[ -f $H/pids/$1.pid ]] && cat "$H/pids/$1.pid"; }
running() {
	local pid
	pid=$(pid_of "$1") || return 1
	ours "$pid" "$1"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

show_log() {
	local log=$H/logs/$1.log
	if [[ -f $log ]]; then
		printf -- '--- last 20 lines of %s\n' "$log" >&2
		tail -n 20 "$log" >&2
	fi
}

start_orderer() {
	local o=$1 d
	d=$(ord_dir "$o")
	mkdir -p "$H/data/$o"
	env FABRIC_CFG_PATH="$H/config" FABRIC_LOGGING_SPEC="$LOG_SPEC" MTRACE_HOME="$H" \
		ORDERER_GENERAL_LISTENADDRESS=127.0.0.1 \
		ORDERER_GENERAL_LISTENPORT="$(ord_port "$o")" \
		ORDERER_GENERAL_LOCALMSPID=OrdererMSP \
		ORDERER_GENERAL_LOCALMSPDIR="$d/msp" \
		ORDERER_GENERAL_BOOTSTRAPMETHOD=none \
		ORDERER_GENERAL_TLS_ENABLED=true \
		ORDERER_GENERAL_TLS_CERTIFICATE="$d/tls/server.crt" \
		ORDERER_GENERAL_TLS_PRIVATEKEY="$d/tls/server.key" \
		ORDERER_GENERAL_TLS_ROOTCAS="[$d/tls/ca.crt]" \
		ORDERER_CHANNELPARTICIPATION_ENABLED=true \
		ORDERER_FILELEDGER_LOCATION="$H/data/$o/ledger" \
		ORDERER_CONSENSUS_WALDIR="$H/data/$o/wal" \
		ORDERER_CONSENSUS_SNAPDIR="$H/data/$o/snap" \
		ORDERER_OPERATIONS_LISTENADDRESS="127.0.0.1:$(ord_ops_port "$o")" \
		ORDERER_METRICS_PROVIDER=prometheus \
		ORDERER_ADMIN_LISTENADDRESS="127.0.0.1:$(ord_admin_port "$o")" \
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
	addr=127.0.0.1:$(peer_port "$n")
	cc=127.0.0.1:$(peer_cc_port "$n")
	mkdir -p "$H/data/$n"
	env FABRIC_CFG_PATH="$H/config" FABRIC_LOGGING_SPEC="$LOG_SPEC" MTRACE_HOME="$H" MTRACE_PEER="$n" \
		CORE_PEER_ID="peer0.$n.mtrace.local" \
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
		CORE_OPERATIONS_LISTENADDRESS="127.0.0.1:$(peer_ops_port "$n")" \
		CORE_METRICS_PROVIDER=prometheus \
		CORE_VM_ENDPOINT= \
		setsid "$BIN/peer" node start </dev/null >>"$H/logs/$n.log" 2>&1 &
	echo "$!" >"$H/pids/$n.pid"
	STARTED+=("$n")
}

node_ports() {
	if [[ $1 == orderer* ]]; then
		echo "$(ord_port "$1") $(ord_admin_port "$1") $(ord_ops_port "$1")"
	else
		echo "$(peer_port "$1") $(peer_cc_port "$1") $(peer_ops_port "$1")"
	fi
}

# start_nodes NODE...: start the nodes that are not running, then wait
# until each answers /healthz.
start_nodes() {
	local n port todo=()
	for n in "$@"; do
		running "$n" && continue
		for port in $(node_ports "$n"); do
			port_busy "$port" && fail "cannot start $n: port 127.0.0.1:$port is already in use"
		done
		todo+=("$n")
	done
	for n in "${todo[@]}"; do
		if [[ $n == orderer* ]]; then start_orderer "$n"; else start_peer "$n"; fi
	done
	for n in "${todo[@]}"; do
		wait_healthy "$n"
	done
}

# starting PID: the process is alive and not a zombie. Right after the
# fork its command line may still be env or setsid rather than the node, so
# `running` (which checks the command line) would misjudge it.
starting() {
	local state
	[[ -r /proc/$1/stat ]] || return 1
	read -r _ _ state _ <"/proc/$1/stat" 2>/dev/null || return 1
	[[ $state != Z ]]
}

wait_healthy() {
	local n=$1 port i pid
	port=$(ops_port "$n")
	pid=$(pid_of "$n") || fail "$n has no PID file"
	for ((i = 0; i < 300; i++)); do
		if ! starting "$pid"; then
			show_log "$n"
			fail "$n exited while starting"
		fi
		curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
		sleep 0.1
	done
	show_log "$n"
	fail "$n did not become healthy within 30 s"
}

# wait_leader: wait until one orderer reports itself Raft leader of the channel.
wait_leader() {
	local i o
	for ((i = 0; i < 300; i++)); do
		for o in "${ORDERERS[@]}"; do
			if curl -fsS "http://127.0.0.1:$(ord_ops_port "$o")/metrics" 2>/dev/null |
				grep -q "^consensus_etcdraft_is_leader{channel=\"$CHANNEL\"} 1"; then
				return 0
			fi
		done
		sleep 0.1
	done
	for o in "${ORDERERS[@]}"; do show_log "$o"; done
	fail "no Raft leader for channel $CHANNEL within 30 s"
}

# wait_gossip: wait until every peer sees the other organisations' peers on
# the channel. Service discovery, and so the gateway's choice of endorsers for
# state-based policies that need a second organisation, relies on it.
wait_gossip() {
	local i p n want=$((${#PEERS[@]} - 1)) ok
	for ((i = 0; i < 300; i++)); do
		ok=1
		for p in "${PEERS[@]}"; do
			n=$(curl -fsS "http://127.0.0.1:$(peer_ops_port "$p")/metrics" 2>/dev/null |
				sed -n "s/^gossip_membership_total_peers_known{channel=\"$CHANNEL\"} //p")
			[[ ${n:-0} -ge $want ]] || ok=0
		done
		((ok)) && return 0
		sleep 0.1
	done
	fail "the peers did not all see each other through gossip within 30 s"
}

# stop_nodes NODE...: TERM, wait up to 10 s, then KILL; only PIDs that are
# still ours.
stop_nodes() {
	local n pid i alive victims=()
	for n in "$@"; do
		pid=$(pid_of "$n") || continue
		if ours "$pid" "$n"; then
			kill -TERM "$pid" 2>/dev/null || true
			victims+=("$n:$pid")
		fi
		rm -f "$H/pids/$n.pid"
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

all_nodes() { printf '%s\n' "${ORDERERS[@]}" "${PEERS[@]}"; }
cc_nodes() { local p; for p in "${PEERS[@]}"; do echo "cc-$p"; done; }

on_exit() {
	local rc=$? n ccs=()
	if ((rc != 0 && ${#STARTED[@]} > 0)); then
		say "network.sh: stopping the ${#STARTED[@]} nodes this run started" >&2
		for n in "${STARTED[@]}"; do
			[[ $n == orderer* ]] || ccs+=("cc-$n")
		done
		stop_nodes "${STARTED[@]}" "${ccs[@]}"
	fi
}

# --- peer CLI ---------------------------------------------------------------

# as ORG [USER] CMD...: run a peer CLI command as ORG's admin (or USER).
as() {
	local org=$1 user=Admin
	shift
	if [[ $1 == User* || $1 == Admin ]]; then
		user=$1
		shift
	fi
	FABRIC_CFG_PATH=$H/config \
		FABRIC_LOGGING_SPEC=warning \
		CORE_PEER_TLS_ENABLED=true \
		CORE_PEER_LOCALMSPID=${MSP[$org]} \
		CORE_PEER_MSPCONFIGPATH="$(org_dir "$org")/users/$user@$org.mtrace.local/msp" \
		CORE_PEER_ADDRESS=127.0.0.1:$(peer_port "$org") \
		CORE_PEER_TLS_ROOTCERT_FILE="$(tlsca "$org")" \
		"$@"
}

# ORD: where the CLI sends transactions; TARGETS: every peer, for commits.
ORD=(-o "127.0.0.1:$(ord_port orderer1)" --tls --cafile "$OTLSCA")
TARGETS=()
for p in "${PEERS[@]}"; do
	TARGETS+=(--peerAddresses "127.0.0.1:$(peer_port "$p")" --tlsRootCertFiles "$(tlsca "$p")")
done

# parallel STEP CMD...: run CMD ORG for every peer org at once; on failure
# show that org's output and fail.
parallel() {
	local step=$1 p pids=() bad=""
	shift
	mkdir -p "$H/logs/cli"
	for p in "${PEERS[@]}"; do
		"$@" "$p" >"$H/logs/cli/$step-$p.log" 2>&1 &
		pids+=($!)
	done
	for i in "${!PEERS[@]}"; do
		if ! wait "${pids[$i]}"; then
			bad+=" ${PEERS[$i]}"
			printf -- '--- %s failed for %s:\n' "$step" "${PEERS[$i]}" >&2
			tail -n 20 "$H/logs/cli/$step-${PEERS[$i]}.log" >&2
		fi
	done
	[[ -z $bad ]] || fail "$step failed for:$bad"
}

# --- creation ----------------------------------------------------------------

write_config() {
	local fabric
	mkdir -p "$H/config"
	fabric=$(cd "$root/network/tools" && go list -m -f '{{.Dir}}' github.com/hyperledger/fabric) ||
		fail "cannot locate the Fabric module (sampleconfig) from network/tools"
	cp "$fabric/sampleconfig/orderer.yaml" "$H/config/orderer.yaml"
	# Environment variables cannot express the external builder list, so the
	# copied core.yaml gets ours in place of the sample's ccaas entry.
	awk -v path="$root/network/builder" '
		/^  externalBuilders:/ {
			print
			print "    - name: mtrace-binary"
			print "      path: " path
			print "      propagateEnvironment:"
			print "        - MTRACE_HOME"
			print "        - MTRACE_PEER"
			skip = 1
			next
		}
		skip && /^    / { next }
		{ skip = 0; print }
	' "$fabric/sampleconfig/core.yaml" >"$H/config/core.yaml"
	grep -q 'name: mtrace-binary' "$H/config/core.yaml" || fail "could not patch core.yaml"
	chmod u+w "$H/config/"*.yaml
}

create() {
	local o out
	say "creating the network in $H (base port $B, channel $CHANNEL)"
	mkdir -p "$H"/{artifacts,logs,pids,data}
	echo "$B" >"$H/base-port"
	echo "$CHANNEL" >"$H/channel"
	cryptogen generate --config="$root/network/config/crypto-config.yaml" --output="$CRYPTO" >/dev/null ||
		fail "cryptogen failed"
	# shellcheck disable=SC2016 # envsubst takes the variable names literally
	CRYPTO=$CRYPTO \
		ORDERER1_PORT=$(ord_port orderer1) ORDERER2_PORT=$(ord_port orderer2) ORDERER3_PORT=$(ord_port orderer3) \
		MUNICIPALITY_PORT=$(peer_port municipality) RECYCLER_PORT=$(peer_port recycler) \
		MAKER_PORT=$(peer_port maker) AUDITOR_PORT=$(peer_port auditor) \
		envsubst '${CRYPTO} ${ORDERER1_PORT} ${ORDERER2_PORT} ${ORDERER3_PORT} ${MUNICIPALITY_PORT} ${RECYCLER_PORT} ${MAKER_PORT} ${AUDITOR_PORT}' \
		<"$root/network/config/configtx.yaml" >"$H/artifacts/configtx.yaml"
	out=$(configtxgen -configPath "$H/artifacts" -profile Circular -channelID "$CHANNEL" \
		-outputBlock "$H/artifacts/$CHANNEL.block" 2>&1) || {
		printf '%s\n' "$out" >&2
		fail "configtxgen failed"
	}
}

join_orderers() {
	local o out
	for o in "${ORDERERS[@]}"; do
		out=$(osnadmin channel join --channelID "$CHANNEL" --config-block "$H/artifacts/$CHANNEL.block" \
			-o "127.0.0.1:$(ord_admin_port "$o")" --ca-file "$OTLSCA" \
			--client-cert "$OORG/users/Admin@orderer.mtrace.local/tls/client.crt" \
			--client-key "$OORG/users/Admin@orderer.mtrace.local/tls/client.key" 2>&1) || {
			printf '%s\n' "$out" >&2
			fail "$o could not join channel $CHANNEL"
		}
	done
}

join_peer() { as "$1" peer channel join -b "$H/artifacts/$CHANNEL.block"; }

bootstrap() {
	local args out
	args=$(jq -cn --arg p "$PARTICIPANTS" '{function: "BootstrapRegistry", Args: [$p]}')
	out=$(as municipality peer chaincode invoke "${ORD[@]}" -C "$CHANNEL" -n "$CC" \
		"${TARGETS[@]}" -c "$args" --waitForEvent 2>&1) || {
		printf '%s\n' "$out" >&2
		fail "BootstrapRegistry failed"
	}
	touch "$H/.bootstrapped"
}

write_cli_config() {
	local f=$H/config.yaml p u suffix d
	{
		echo "# mtrace CLI profiles for the network in $H (written by scripts/network.sh)."
		echo "defaultProfile: municipality"
		echo "profiles:"
		for p in "${PEERS[@]}"; do
			for u in User1 Admin; do
				suffix=""
				[[ $u == Admin ]] && suffix=-admin
				d=$(org_dir "$p")/users/$u@$p.mtrace.local/msp
				cat <<-EOF
					  $p$suffix:
					    endpoint: 127.0.0.1:$(peer_port "$p")
					    tlsRootCert: $(tlsca "$p")
					    serverName: peer0.$p.mtrace.local
					    mspId: ${MSP[$p]}
					    cert: $d/signcerts/$u@$p.mtrace.local-cert.pem
					    key: $d/keystore/priv_sk
					    channel: $CHANNEL
					    chaincode: $CC
				EOF
			done
		done
	} >"$f"
}

# --- chaincode ----------------------------------------------------------------

committed() {
	# prints "VERSION SEQUENCE", or "- 0" when nothing is committed
	local out
	if out=$(as municipality peer lifecycle chaincode querycommitted -C "$CHANNEL" -n "$CC" -O json 2>&1); then
		jq -r '"\(.version) \(.sequence)"' <<<"$out"
	elif [[ $out == *"namespace $CC is not defined"* ]]; then
		echo "- 0"
	else
		printf '%s\n' "$out" >&2
		fail "querycommitted failed"
	fi
}

install_on() {
	local p=$1
	if as "$p" peer lifecycle chaincode queryinstalled -O json |
		jq -e --arg id "$PKG_ID" '.installed_chaincodes // [] | any(.package_id == $id)' >/dev/null; then
		echo "already installed"
		return 0
	fi
	as "$p" peer lifecycle chaincode install "$H/cc/$CC.tar.gz"
}

approve_for() {
	as "$1" peer lifecycle chaincode approveformyorg "${ORD[@]}" -C "$CHANNEL" -n "$CC" \
		--version "$VERSION" --package-id "$PKG_ID" --sequence "$SEQ" \
		--signature-policy "$POLICY" --waitForEventTimeout 60s
}

# deploy: build and package the chaincode; when its package differs from the
# committed definition's, install, approve and commit the next sequence.
deploy() {
	local cur cur_seq pkg=$H/cc/$CC.tar.gz w=$H/cc/work out
	local tarflags=(--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner)
	rm -rf "$w"
	mkdir -p "$w/src"
	(cd "${MTRACE_CC_SRC:-$root}" && go build -trimpath -buildvcs=false -o "$w/src/mtrace-cc" ./chaincode/cmd/mtrace-cc) ||
		fail "chaincode build failed"
	say "chaincode built ($(since))"
	tar "${tarflags[@]}" -C "$w/src" -cf - mtrace-cc | gzip -n >"$w/code.tar.gz"
	printf '{"type":"mtrace-binary","label":"%s"}\n' "$CC" >"$w/metadata.json"
	tar "${tarflags[@]}" -C "$w" -cf - metadata.json code.tar.gz | gzip -n >"$pkg"
	PKG_ID=$(as municipality peer lifecycle chaincode calculatepackageid "$pkg") ||
		fail "calculatepackageid failed"
	# The definition's version names the package and the policy, so a
	# change of either deploys a new sequence.
	VERSION=$(printf '%s %s' "$PKG_ID" "$POLICY" | sha256sum)
	VERSION=${VERSION:0:12}
	out=$(committed) || exit 1
	read -r cur cur_seq <<<"$out"
	if [[ $cur == "$VERSION" ]]; then
		say "chaincode $CC up to date (version $VERSION, sequence $cur_seq)"
		return 0
	fi
	SEQ=$((cur_seq + 1))
	say "deploying chaincode $CC version $VERSION as sequence $SEQ (was $cur)"
	parallel install install_on
	say "installed on ${#PEERS[@]} peers ($(since))"
	parallel approve approve_for
	say "approved by ${#PEERS[@]} organisations ($(since))"
	out=$(as municipality peer lifecycle chaincode commit "${ORD[@]}" -C "$CHANNEL" -n "$CC" \
		--version "$VERSION" --sequence "$SEQ" --signature-policy "$POLICY" \
		"${TARGETS[@]}" --waitForEventTimeout 60s 2>&1) || {
		printf '%s\n' "$out" >&2
		fail "chaincode commit failed"
	}
	say "chaincode $CC committed: version $VERSION, sequence $SEQ ($(since))"
}

# --- commands -------------------------------------------------------------------

check_home() {
	local b c
	b=$(cat "$H/base-port" 2>/dev/null || echo "$B")
	c=$(cat "$H/channel" 2>/dev/null || echo "$CHANNEL")
	[[ $b == "$B" ]] || fail "the network in $H was created with MTRACE_BASE_PORT=$b, not $B"
	[[ $c == "$CHANNEL" ]] || fail "the network in $H was created with MTRACE_CHANNEL=$c, not $CHANNEL"
}

# is_home: MTRACE_HOME is empty or was made by this script, so it may be
# deleted.
is_home() { [[ -f $H/base-port || -z $(ls -A "$H") ]]; }

cmd_up() {
	local n all=1 fresh=0
	trap on_exit EXIT
	"$root/scripts/build-fabric.sh" >/dev/null || fail "building the Fabric binaries failed"
	if [[ -d $H && ! -f $H/.ready ]]; then
		is_home || fail "$H exists and is not an mtrace network folder; choose another MTRACE_HOME"
		for n in $(all_nodes) $(cc_nodes); do
			running "$n" && fail "$H holds an unfinished network whose $n is running; run 'network.sh down --purge'"
		done
		say "removing the unfinished network in $H"
		rm -rf "$H"
	fi
	if [[ -f $H/.ready ]]; then
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
	write_config
	# shellcheck disable=SC2046
	start_nodes $(all_nodes)
	say "nodes healthy ($(since))"
	((fresh)) && join_orderers
	wait_leader
	if ((fresh)); then
		parallel join join_peer
		say "channel $CHANNEL joined ($(since))"
	fi
	deploy
	if [[ ! -f $H/.bootstrapped ]]; then
		bootstrap
		say "registry bootstrapped ($(since))"
	fi
	wait_gossip
	write_cli_config
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
	local n pid h out
	[[ -d $H ]] || fail "no network in $H"
	printf '%-16s %-6s %s\n' NODE STATE PID
	for n in $(all_nodes) $(cc_nodes); do
		if running "$n"; then
			printf '%-16s %-6s %s\n' "$n" up "$(pid_of "$n")"
		else
			printf '%-16s %-6s %s\n' "$n" down -
		fi
	done
	echo
	for n in "${PEERS[@]}"; do
		h=-
		if running "$n" && out=$(as "$n" peer channel getinfo -c "$CHANNEL" 2>/dev/null); then
			h=$(sed -n 's/.*"height":\([0-9]*\).*/\1/p' <<<"$out")
		fi
		printf '%-16s height %s\n' "$n" "$h"
	done
	echo
	if running municipality && out=$(as municipality peer lifecycle chaincode querycommitted \
		-C "$CHANNEL" -n "$CC" -O json 2>&1); then
		jq -r --arg cc "$CC" '"chaincode \($cc) version \(.version) sequence \(.sequence)"' <<<"$out"
	else
		echo "chaincode $CC: unknown (municipality peer down or nothing committed)"
	fi
}

cmd_deploy() {
	local p
	[[ -f $H/.ready ]] || fail "no network in $H; run 'network.sh up'"
	check_home
	for p in "${PEERS[@]}"; do running "$p" || fail "peer $p is not running; run 'network.sh up'"; done
	deploy
}

cmd_stop() {
	local n
	(($# > 0)) || fail "usage: network.sh stop NODE... (orderer1..3, ${PEERS[*]}, cc-<peer>)"
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

case ${1:-} in
up) cmd_up ;;
down) cmd_down "${2:-}" ;;
status) cmd_status ;;
deploy) cmd_deploy ;;
stop) shift && cmd_stop "$@" ;;
logs) cmd_logs "${2:-}" ;;
*)
	sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
	;;
esac
