#!/usr/bin/env bash
# bench.sh benchmarks mtrace on a fresh network of its own and saves the
# figures under results/ (gitignored). The network is a bench network: beside
# mtrace it deploys the baseline chaincode mtrace-baseline
# (test/bench/baselinecc), which `network.sh up` never deploys. The
# measurements are bin/mtrace-bench's (client/cmd/mtrace-bench);
# docs/reference/bench.md describes them.
#
#   0. BFT against Raft: register, transfer and process on the BFT bench
#      network and on a Raft one (the same members' orderers as etcdraft
#      consenters, MTRACE_CONSENSUS=raft) running beside it, in alternating
#      slices of one invocation: tx/s of each and BFT/Raft, latency, bytes
#      per transaction and what the blocks weigh. The Raft network is
#      stopped right after.
#   1. throughput: register, transfer, process (10 -> 10) and mixed against
#      the platform baseline (mtrace-baseline's Put), side by side in one
#      invocation: every scenario's ratio is against baseline slices run
#      before and after each of its slices
#   2. trace and verify of generated ancestries of 10, 100, 1000 and 5000
#      batches, each answered by the chaincode, and the fitted growth exponent
#   3. whole CLI processes (start, TLS connect, evaluate, print): the median
#      of `mtrace batch get`, `mtrace trace` and `mtrace verify` on the
#      1000-batch ancestry
#   4. silo: one batch, BENCH_SILO takes of 1 kg one at a time, latency and
#      committed bytes per tenth of the takes; recall: the downstream trace,
#      page by page, of a tree of BENCH_RECALL descendants, in the bench and
#      as one whole `mtrace trace --down` process (time and peak memory),
#      and right after it the 5000-batch upstream trace, its yardstick
#
# The network lives in MTRACE_HOME (default .mtrace-bench) on ports from
# MTRACE_BASE_PORT (default 30000), the Raft one in MTRACE_HOME-raft on
# ports from BENCH_RAFT_BASE_PORT (default MTRACE_BASE_PORT+200), so demo
# and test networks are left alone; both are stopped by PID when the script
# ends, however it ends.
#
# Environment: BENCH_N (transactions per scenario, default 1500),
# BENCH_C (concurrency, default 64), BENCH_CALLS (trace/verify calls per
# size, default 10), BENCH_RUNS (CLI runs per median, default 30),
# BENCH_SILO (takes, default 1000), BENCH_RECALL (descendants, default 50000),
# BENCH_KEEP=1 to leave the BFT network running, BENCH_RAFT=0 to skip the
# comparison with Raft, BENCH_QUICK=1 to run the throughput parts only (0
# and 1), MTRACE_CC_POLICY to bench another chaincode-level endorsement
# policy (network.sh).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

export MTRACE_HOME=${MTRACE_HOME:-$root/.mtrace-bench}
export MTRACE_BASE_PORT=${MTRACE_BASE_PORT:-30000}
export MTRACE_CONFIG=$MTRACE_HOME/config.yaml
# The bench network is BFT whatever the caller's environment says; the
# comparison network is Raft.
export MTRACE_CONSENSUS=bft
raft_home=$MTRACE_HOME-raft
raft_base=${BENCH_RAFT_BASE_PORT:-$((MTRACE_BASE_PORT + 200))}
compare=${BENCH_RAFT:-1}
quick=${BENCH_QUICK:-0}
n=${BENCH_N:-1500}
c=${BENCH_C:-64}
calls=${BENCH_CALLS:-10}
runs=${BENCH_RUNS:-30}
silo=${BENCH_SILO:-1000}
recall=${BENCH_RECALL:-50000}
mtrace=$root/bin/mtrace
bench=$root/bin/mtrace-bench
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$root/results/bench-$stamp.json
work=$(mktemp -d)

say() { printf '\n==> %s\n' "$*" >&2; }

# raft CMD...: network.sh on the Raft comparison network.
raft() { MTRACE_HOME=$raft_home MTRACE_BASE_PORT=$raft_base MTRACE_CONFIG=$raft_home/config.yaml MTRACE_CONSENSUS=raft scripts/network.sh "$@"; }

stop() {
	rm -rf "$work"
	if [[ -d $raft_home && ${BENCH_KEEP:-0} != 1 ]]; then
		say "stopping the Raft network and removing $raft_home (its WAL preallocates ~120 MB per orderer)"
		raft down --purge >/dev/null || true
	elif [[ -d $raft_home ]]; then
		raft down >/dev/null || true
	fi
	if [[ ${BENCH_KEEP:-0} != 1 ]]; then
		say "stopping the bench network"
		scripts/network.sh down >/dev/null || true
	fi
}

# median_ms RUNS CMD... runs CMD RUNS times, output discarded, and prints
# the median wall time in milliseconds. Every run must succeed.
median_ms() {
	local runs=$1 i t0 t1
	shift
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		"$@" >/dev/null
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000))
	done | sort -n | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f\n", m / 1000}'
}

[[ -x $mtrace ]] || go build -trimpath -o "$mtrace" ./client/cmd/mtrace
[[ -x $bench ]] || go build -trimpath -o "$bench" ./client/cmd/mtrace-bench
mkdir -p results

((raft_base >= MTRACE_BASE_PORT + 130 || raft_base + 130 <= MTRACE_BASE_PORT)) ||
	{ echo "bench.sh: BENCH_RAFT_BASE_PORT=$raft_base overlaps the BFT network's ports from $MTRACE_BASE_PORT (each uses 130)" >&2; exit 1; }

say "fresh bench network in $MTRACE_HOME (ports from $MTRACE_BASE_PORT, BFT)"
scripts/network.sh down --purge >/dev/null 2>&1 || true
raft down --purge >/dev/null 2>&1 || true
trap stop EXIT
up_t0=$(date +%s%N)
scripts/network.sh up >&2
bft_up_s=$(awk -v ns=$(($(date +%s%N) - up_t0)) 'BEGIN { printf "%.1f", ns / 1e9 }')
say "the baseline chaincode, beside mtrace (bench networks only)"
scripts/network.sh deploy mtrace-baseline ./test/bench/baselinecc >&2

echo null >"$work/versus.json"
raft_up_s=null
if [[ $compare == 1 ]]; then
	say "fresh Raft network in $raft_home (ports from $raft_base): the same orderers as etcdraft consenters"
	up_t0=$(date +%s%N)
	raft up >&2
	raft_up_s=$(awk -v ns=$(($(date +%s%N) - up_t0)) 'BEGIN { printf "%.1f", ns / 1e9 }')
	say "BFT against Raft at concurrency $c, $n transactions per scenario, alternating slices"
	versus_load0=$(cut -d' ' -f1-3 /proc/loadavg)
	"$bench" register transfer process --against "$raft_home/config.yaml" --labels bft,raft \
		-n "$n" -c "$c" -o json >"$work/versus.json"
	versus_load1=$(cut -d' ' -f1-3 /proc/loadavg)
	say "stopping the Raft network"
	raft down >&2
fi

say "throughput at concurrency $c, $n transactions per scenario, against the baseline"
"$bench" register transfer process mixed --baseline -n "$n" -c "$c" -o json >"$work/tx.json"
tx_load=$(cut -d' ' -f1-3 /proc/loadavg)

for f in trace silo recall beside recall-trace; do echo null >"$work/$f.json"; done
get_ms=null trace_ms=null verify_ms=null verify_nosig_ms=null verdict_ok=null
recall_s=null recall_kb=null recall_nodes=null dot_note=""
if [[ $quick != 1 ]]; then
say "trace and verify of ancestries of 10, 100, 1000 and 5000 batches"
"$bench" trace verify --nodes 10,100,1000,5000 --depth 3,5,8,10 --calls "$calls" -c "$c" -o json >"$work/trace.json"

say "whole CLI processes, median of $runs runs (1000-batch ancestry for trace and verify)"
root1000=$(jq -r '[.[] | select(.nodes == 1000)][0].root' "$work/trace.json")
leaf=$(jq -r '[.[] | select(.nodes == 10)][0].root' "$work/trace.json")
get_ms=$(median_ms "$runs" "$mtrace" batch get "$leaf")
trace_ms=$(median_ms "$runs" "$mtrace" trace "$root1000" -o json)
# verify exits 1 when a check fails; the timing is what counts here, and
# the verdict is kept in the results.
verdict_ok=$("$mtrace" verify "$root1000" -o json | jq -r .ok)
verify_once() { "$mtrace" verify "$1" || [[ $? -eq 1 ]]; }
verify_ms=$(median_ms "$runs" verify_once "$root1000")
# The same without the client's signatures check (its cost is the difference).
verify_nosig_once() { "$mtrace" verify "$1" --no-signatures || [[ $? -eq 1 ]]; }
verify_nosig_ms=$(median_ms "$runs" verify_nosig_once "$root1000")

say "silo of $silo takes, and a recall of $recall descendants"
"$bench" silo -n "$silo" -o json >"$work/silo.json"
"$bench" recall --descendants "$recall" --recall-depth 3 --calls 3 -o json >"$work/recall.json"
recall_root=$(jq -r '.[0].root' "$work/recall.json")
# The recall's yardstick, measured right after it at the same load: the
# one-call upstream trace of 5000 batches.
"$bench" trace --nodes 5000 --depth 10 --calls 5 -o json >"$work/beside.json"
# The whole CLI process on the recall: wall seconds and peak resident KB.
/usr/bin/time -f '%e %M' -o "$work/recall-cli" "$mtrace" trace "$recall_root" --down -o json >"$work/recall-trace.json"
read -r recall_s recall_kb <"$work/recall-cli"
recall_nodes=$(jq '.nodes | length' "$work/recall-trace.json")
dot_note=$("$mtrace" trace "$recall_root" --down --format dot | grep -m1 -o '[0-9]* of [0-9]* batches[^"]*left out' || true)
fi

jq -n --arg stamp "$stamp" --arg host "$(nproc) cores, $(free -m | awk '/^Mem:/ {printf "%.0f", $2 / 1024}') GiB" \
	--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
	--argjson n "$n" --argjson c "$c" --argjson runs "$runs" \
	--slurpfile tx "$work/tx.json" --slurpfile tr "$work/trace.json" \
	--slurpfile silo "$work/silo.json" --slurpfile recall "$work/recall.json" --slurpfile beside "$work/beside.json" \
	--argjson recall_s "$recall_s" --argjson recall_kb "$recall_kb" --argjson recall_nodes "$recall_nodes" --arg dot_note "$dot_note" \
	--argjson get "$get_ms" --argjson trace "$trace_ms" --argjson verify "$verify_ms" --argjson ok "$verdict_ok" \
	--argjson verify_nosig "$verify_nosig_ms" --arg policy "${MTRACE_CC_POLICY:-default}" \
	--slurpfile versus "$work/versus.json" --argjson bft_up "$bft_up_s" --argjson raft_up "$raft_up_s" \
	--arg versus_load0 "${versus_load0:-}" --arg versus_load1 "${versus_load1:-}" --arg tx_load "$tx_load" --argjson quick "$quick" \
	'{stamp: $stamp, host: $host, load_after: $load, n: $n, concurrency: $c, chaincode_policy: $policy, quick: ($quick == 1),
	  bft_vs_raft: (if $versus[0] == null then null else {load_before: $versus_load0, load_after: $versus_load1,
	        up_seconds: {bft: $bft_up, raft: $raft_up}, scenarios: $versus[0]} end),
	  scenarios: $tx[0], scenarios_load_after: $tx_load, traces: $tr[0], silo: $silo[0][0], recall: $recall[0][0], trace_beside_recall: $beside[0][0],
	  recall_cli: {seconds: $recall_s, peak_rss_mb: (if $recall_kb == null then null else $recall_kb / 1024 | . * 10 | round / 10 end), nodes: $recall_nodes, dot: $dot_note},
	  cli: {runs: $runs, batch_get_median_ms: $get, trace_1000_median_ms: $trace,
	        verify_1000_median_ms: $verify, verify_1000_no_signatures_median_ms: $verify_nosig,
	        verify_1000_ok: $ok}}' >"$out"

if [[ $compare == 1 ]]; then
	say "BFT against Raft (alternating slices; load average $versus_load0 before, $versus_load1 after; up in $bft_up_s s and $raft_up_s s)"
	{
		echo "SCENARIO NETWORK TX/S BFT/RAFT P50_MS P95_MS BYTES/TX BLOCK_BYTES/TX TX/BLOCK SIGS/BLOCK SIG_BYTES/BLOCK FAILED"
		jq -r '.bft_vs_raft.scenarios[] | .ratio as $r | .networks | to_entries[] | .key as $i | .value |
			[.scenario, .network, .tps, (if $i == 0 then ($r // "-") else "-" end), .p50_ms, .p95_ms, (.bytes_per_tx // "-"),
			 (.block_bytes_per_tx // "-"), (.tx_per_block // "-"), (.signatures_per_block // "-"), (.signature_bytes_per_block // "-"),
			 (.failed | to_entries | map("\(.key)=\(.value)") | join(",") | if . == "" then "0" else . end)] | @tsv' "$out"
	} | column -t
fi

say "ratio table"
{
	echo "SCENARIO TX/S BASELINE RATIO BYTES/TX P50_MS P95_MS P99_MS FAILED"
	jq -r '.scenarios[] | [.scenario, .tps, (.baseline_tps // "-"), (.ratio // "-"), (.bytes_per_tx // "-"), .p50_ms, .p95_ms, .p99_ms,
		(.failed | to_entries | map("\(.key)=\(.value)") | join(",") | if . == "" then "0" else . end)] | @tsv' "$out"
} | column -t
if [[ $quick == 1 ]]; then
	say "BENCH_QUICK=1: trace, CLI, silo and recall skipped; saved $out"
	exit 0
fi
say "trace table (chaincode answer, p50 of $calls calls)"
{
	echo "SCENARIO NODES DEPTH P50_MS P95_MS MS_PER_1000_NODES EXPONENT"
	jq -r '.traces[] | [.scenario, .nodes, .depth, .p50_ms, .p95_ms, ((.p50_ms * 1000 / .nodes) * 10 | round / 10), (.exponent // "-")] | @tsv' "$out"
} | column -t
say "whole CLI process, median of $runs"
jq -r '.cli | "batch get: \(.batch_get_median_ms) ms\ntrace 1000 nodes: \(.trace_1000_median_ms) ms\nverify 1000 nodes: \(.verify_1000_median_ms) ms with the signatures check, \(.verify_1000_no_signatures_median_ms) ms without (verdict ok: \(.verify_1000_ok))"' "$out"
say "silo: $silo takes of 1 kg (p50 and committed bytes per tenth)"
{
	echo "TAKES P50_MS BYTES/TX"
	jq -r '.silo.segments[] | ["\(.from)-\(.to)", .p50_ms, .bytes_per_tx] | @tsv' "$out"
	jq -r '.silo | ["last/first", .last_first_p50, .last_first_bytes] | @tsv' "$out"
} | column -t
say "recall of $recall descendants"
jq -r '.recall | "bench: \(.nodes) batches, \(.pages) pages, p50 \(.p50_ms) ms over \(.n) traces = \(.ms_per_1000_nodes) ms per 1000 nodes"' "$out"
jq -r '(.trace_beside_recall.p50_ms * 1000 / .trace_beside_recall.nodes) as $t |
	"beside it, the upstream trace of \(.trace_beside_recall.nodes) batches: p50 \(.trace_beside_recall.p50_ms) ms = \($t * 10 | round / 10) ms per 1000 nodes; recall / trace = \(.recall.ms_per_1000_nodes / $t * 100 | round / 100)"' "$out"
jq -r '.recall_cli | "mtrace trace --down: \(.nodes) batches in \(.seconds) s, peak RSS \(.peak_rss_mb) MB; dot: \(.dot)"' "$out"
say "saved $out"
