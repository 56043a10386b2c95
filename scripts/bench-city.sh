#!/usr/bin/env bash
# bench-city.sh: the year of a city. Two fresh bench networks in one
# invocation: an "empty" one that holds only the probe set, and the
# "city" one that holds the same probe set after a year of a city's flows
# (at least BENCH_CITY_N batches; mtrace-bench city). Then, side by side:
#
#   1. each user command (batch get, batch list first page and page 5,
#      history, trace and verify of a 100-batch ancestry) as a whole mtrace
#      process, BENCH_CITY_RUNS times on each network, alternating;
#      medians, p90 and the ratio city/empty (mtrace-bench cli)
#   2. the projection's catch-up from an empty database to the city
#      ledger's height, on SQLite and on PostgreSQL (a server of its own,
#      started here and stopped by PID): wall time, blocks/s, tx/s,
#      batches/s
#   3. the reports on each projection: a quarter's balance of the busiest
#      plant, its PPWR year, its declarations of the quarter (median of 5)
#   4. one peer's ledger directory in bytes, per batch and per transaction
#
# Results go to results/bench-city-<stamp>.json (gitignored);
# docs/reference/bench.md describes them. The networks live in
# .mtrace-city-empty and .mtrace-city on ports from 22000 and 23000
# (BENCH_CITY_EMPTY_PORT, BENCH_CITY_PORT); PostgreSQL on 22500
# (BENCH_CITY_PG_PORT). Both networks are stopped by PID when the script
# ends, however it ends (BENCH_KEEP=1 leaves them running).
#
# Environment: BENCH_CITY_N (batches, default 250000), BENCH_CITY_C
# (transactions in flight, default 128), BENCH_CITY_RUNS (runs per
# command and network, default 30), BENCH_CITY_SEED (default 2026),
# BENCH_CITY_RESUME=1 to restart the networks without purging them and go
# on with the load where it stopped (its state file is in the city's
# home), BENCH_CITY_LOAD=0 (with BENCH_CITY_RESUME=1) to measure the
# city network as it is, without loading more, BENCH_CITY_PG=0 to skip
# PostgreSQL.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

n=${BENCH_CITY_N:-250000}
c=${BENCH_CITY_C:-128}
runs=${BENCH_CITY_RUNS:-30}
seed=${BENCH_CITY_SEED:-2026}
pg_port=${BENCH_CITY_PG_PORT:-22500}
empty_home=$root/.mtrace-city-empty
city_home=$root/.mtrace-city
empty_port=${BENCH_CITY_EMPTY_PORT:-22000}
city_port=${BENCH_CITY_PORT:-23000}
mtrace=$root/bin/mtrace
bench=$root/bin/mtrace-bench
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$root/results/bench-city-$stamp.json
# Each step's output is kept beside the results, so that a run cut short
# keeps what it measured.
work=$root/results/bench-city-$stamp.d
pg_pid=
pgdir=
as_pg=()

say() { printf '\n==> %s [%s, load %s]\n' "$*" "$(date -u +%H:%M:%S)" "$(cut -d' ' -f1-3 /proc/loadavg)" >&2; }

# net HOME PORT CMD...: run CMD with the environment of one network.
net() {
	local home=$1 port=$2
	shift 2
	MTRACE_HOME=$home MTRACE_BASE_PORT=$port MTRACE_CONFIG=$home/config.yaml "$@"
}

stop() {
	local rc=$?
	if [[ -n $pg_pid ]]; then
		kill -INT "$pg_pid" 2>/dev/null || true
		for _ in $(seq 60); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.5; done
	fi
	rm -rf "$work/city.db" ${pgdir:+"$pgdir"}
	if [[ ${BENCH_KEEP:-0} != 1 ]]; then
		say "stopping both networks"
		net "$empty_home" "$empty_port" scripts/network.sh down >/dev/null || true
		net "$city_home" "$city_port" scripts/network.sh down >/dev/null || true
	fi
	exit "$rc"
}

# times_ms RUNS CMD...: run CMD RUNS times (output discarded, every run
# must succeed) and print a JSON object of the median and the slowest
# wall time in milliseconds.
times_ms() {
	local runs=$1 i t0 t1
	shift
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		"$@" >/dev/null
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000))
	done | sort -n | jq -s '{runs: length, median_ms: ((if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end) / 1000 | . * 10 | round / 10), max_ms: (.[-1] / 1000 | . * 10 | round / 10)}'
}

# sql DB QUERY: one value from the projection DB.
sql() {
	case $1 in
	sqlite:*) sqlite3 "${1#sqlite:}" "$2" ;;
	*) psql "$1" -qAtc "$2" ;;
	esac
}

# catch_up NAME DB: project the city ledger into DB from nothing, timed,
# and print a JSON object of the figures.
catch_up() {
	local name=$1 db=$2 t0 t1 s blocks tx batches
	t0=$(date +%s%N)
	net "$city_home" "$city_port" "$mtrace" project --db "$db" --once >&2
	t1=$(date +%s%N)
	s=$(echo "($t1 - $t0) / 1000000000" | bc -l)
	blocks=$(sql "$db" 'select next_block from checkpoint')
	tx=$(sql "$db" 'select count(*) from transactions')
	batches=$(sql "$db" 'select count(*) from batches')
	jq -n --arg name "$name" --argjson s "$s" --argjson blocks "$blocks" --argjson tx "$tx" --argjson batches "$batches" \
		'{db: $name, seconds: ($s * 10 | round / 10), blocks: $blocks, transactions: $tx, batches: $batches,
		  blocks_per_s: ($blocks / $s | round), tx_per_s: ($tx / $s | round), batches_per_s: ($batches / $s | round)}'
}

# busiest DB: the site with the most stock movements (a transfer
# station: every collection and every bale passes through one).
busiest() {
	sql "$1" 'select site from stock_movements group by site order by count(*) desc, site limit 1'
}

# reports NAME DB: time the three reports on DB; the balance also for the
# busiest site, in every format.
reports() {
	local db=$1 station
	station=$(busiest "$db")
	jq -n --arg db "$2" --arg station "$station" \
		--argjson station_moves "$(sql "$db" "select count(*) from stock_movements where site = '$station'")" \
		--argjson station_table "$(times_ms 5 "$mtrace" report balance --db "$db" --site "$station" --from 2026-10-01 --to 2026-12-31)" \
		--argjson station_json "$(times_ms 5 "$mtrace" report balance --db "$db" --site "$station" --from 2026-10-01 --to 2026-12-31 --format json)" \
		--argjson station_csv "$(times_ms 5 "$mtrace" report balance --db "$db" --site "$station" --from 2026-10-01 --to 2026-12-31 --format csv)" \
		--argjson station_html "$(times_ms 5 "$mtrace" report balance --db "$db" --site "$station" --from 2026-10-01 --to 2026-12-31 --format html)" \
		--argjson balance "$(times_ms 5 "$mtrace" report balance --db "$db" --site "$plant" --from 2026-10-01 --to 2026-12-31)" \
		--argjson balance_html "$(times_ms 5 "$mtrace" report balance --db "$db" --site "$plant" --from 2026-10-01 --to 2026-12-31 --format html)" \
		--argjson ppwr "$(times_ms 5 "$mtrace" report ppwr --db "$db" --plant "$plant" --year 2026)" \
		--argjson ppwr_maker "$(times_ms 5 "$mtrace" report ppwr --db "$db" --plant "$workshop" --year 2026)" \
		--argjson decl "$(times_ms 5 "$mtrace" report declarations --db "$db" --site "$plant" --from 2026-10-01 --to 2026-12-31)" \
		'{db: $db, station: {site: $station, movements: $station_moves, table: $station_table, json: $station_json, csv: $station_csv, html: $station_html},
		  balance_quarter: $balance, balance_quarter_html: $balance_html, ppwr_plant_year: $ppwr, ppwr_workshop_year: $ppwr_maker, declarations_quarter: $decl}'
}

# peer_bytes HOME: the size of the municipality peer's data directory.
peer_bytes() {
	local d
	d=$(find "$1/data" -maxdepth 3 -type d -name ledgersData | grep -m1 municipality)
	du -sb "$d" | cut -f1
}

[[ -x $mtrace && -x $bench ]] || make build >&2
mkdir -p "$work"
trap stop EXIT
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

for side in empty city; do
	home=$empty_home port=$empty_port
	[[ $side == city ]] && home=$city_home port=$city_port
	if [[ ${BENCH_CITY_RESUME:-0} != 1 ]]; then
		net "$home" "$port" scripts/network.sh down --purge >/dev/null 2>&1 || true
	fi
	say "the $side network in $home (ports from $port)"
	net "$home" "$port" scripts/network.sh up >&2
	# A resumed network may have been loaded by an older chaincode that
	# `up` has just upgraded: its batches are migrated in place first,
	# timed (a fresh network has nothing to migrate).
	say "migrating the $side network's batches to the current stored format"
	t0=$(date +%s%N)
	migrated=$(net "$home" "$port" "$mtrace" -p municipality-admin migrate --batch 100 --parallel 8 -o json)
	t1=$(date +%s%N)
	jq --arg side "$side" --argjson ms "$(((t1 - t0) / 1000000))" \
		'{side: $side, pending, migrated: (.migrated | length), transactions, seconds: ($ms / 100 | round / 10)}' \
		<<<"$migrated" | tee "$work/migrate-$side.json" | jq -c . >&2
done

say "the probe set on the empty network"
net "$empty_home" "$empty_port" "$bench" probe -c "$c" -o json >"$work/probe-empty.json"

if [[ ${BENCH_CITY_LOAD:-1} == 1 ]]; then
	say "the year of a city: at least $n batches"
	net "$city_home" "$city_port" "$bench" city --batches "$n" --seed "$seed" -c "$c" \
		--state "$city_home/city-state.json" -o json >"$work/city-load.json"
else
	echo '[null]' >"$work/city-load.json"
fi
say "the probe set on the city network"
net "$city_home" "$city_port" "$bench" probe -c "$c" -o json >"$work/probe-city.json"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
plant=$(jq -r '.[0].plants[0]' "$work/probe-city.json")
workshop=$(jq -r '.[0].workshop' "$work/probe-city.json")

say "each user command, $runs runs on each network, alternating"
net "$city_home" "$city_port" "$bench" cli --against "$empty_home/config.yaml" --runs "$runs" -o json >"$work/cli.json"

# A list filtered by owner and status that matches nothing. Contract 0.7.0
# reads the owner-and-status index; before it, the chaincode read every
# batch the municipality ever held to find none in transit. A few runs on
# each network, alternating; a run that fails (a timeout) counts with its
# time and exit status.
say "a filtered list: batch list --owner MunicipalityMSP --status in_transit"
for ((i = 0; i < 3; i++)); do
	for side in empty city; do
		home=$empty_home port=$empty_port
		[[ $side == city ]] && home=$city_home port=$city_port
		t0=$(date +%s%N)
		rc=0
		net "$home" "$port" "$mtrace" batch list --owner MunicipalityMSP --status in_transit --timeout 300s >/dev/null 2>"$work/list-filtered-$side.err" || rc=$?
		t1=$(date +%s%N)
		jq -n --arg side "$side" --argjson ms "$(((t1 - t0) / 1000000))" --argjson rc "$rc" '{side: $side, ms: $ms, exit: $rc}'
	done
done | jq -s 'group_by(.side) | map({key: .[0].side, value: {runs_ms: map(.ms), exits: map(.exit), median_ms: (map(.ms) | sort | .[length / 2 | floor])}}) | from_entries' >"$work/list-filtered.json"
jq -c . "$work/list-filtered.json" >&2

say "peer disk"
city_bytes=$(peer_bytes "$city_home")
empty_bytes=$(peer_bytes "$empty_home")

say "projection catch-up on SQLite"
catch_up sqlite "sqlite:$work/city.db" >"$work/catchup-sqlite.json"
say "reports on SQLite"
reports "sqlite:$work/city.db" sqlite >"$work/reports-sqlite.json"

pg='[]'
if [[ ${BENCH_CITY_PG:-1} == 1 ]]; then
	say "PostgreSQL on 127.0.0.1:$pg_port"
	pgbin=$(dirname "$(find /usr/lib/postgresql -name initdb -path '*/bin/*' | sort -V | tail -1)")
	# PostgreSQL refuses to run as root: as root, it runs as nobody, in a
	# folder of its own that nobody owns (as internal/pgtest does).
	pgdir=$(mktemp -d -t mtrace-city-pg.XXXXXX)
	if ((EUID == 0)); then
		chown nobody:nogroup "$pgdir"
		as_pg=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	fi
	"${as_pg[@]}" "$pgbin/initdb" -D "$pgdir/data" -U mtrace --auth=trust -E UTF8 --no-sync >/dev/null
	"${as_pg[@]}" "$pgbin/postgres" -D "$pgdir/data" -k "$pgdir" -p "$pg_port" -h 127.0.0.1 -F \
		>"$pgdir/server.log" 2>&1 &
	pg_pid=$!
	url="postgres://mtrace@127.0.0.1:$pg_port/postgres?sslmode=disable"
	for _ in $(seq 120); do
		psql "$url" -qAtc 'select 1' >/dev/null 2>&1 && break
		sleep 0.5
	done
	say "projection catch-up on PostgreSQL"
	catch_up postgresql "$url" >"$work/catchup-pg.json"
	say "reports on PostgreSQL"
	reports "$url" postgresql >"$work/reports-pg.json"
	pg=$(jq -s '.' "$work/catchup-pg.json" "$work/reports-pg.json")
fi

jq -n --arg stamp "$stamp" --arg host "$(nproc) cores, $(free -m | awk '/^Mem:/ {printf "%.0f", $2 / 1024}') GiB" \
	--arg load_start "$load_start" --arg load_after_load "$load_after" --arg load_end "$(cut -d' ' -f1-3 /proc/loadavg)" \
	--argjson n "$n" --argjson runs "$runs" --argjson c "$c" \
	--slurpfile probe "$work/probe-empty.json" --slurpfile city "$work/city-load.json" --slurpfile probe_city "$work/probe-city.json" --slurpfile cli "$work/cli.json" --slurpfile lf "$work/list-filtered.json" \
	--slurpfile mig "$work/migrate-empty.json" --slurpfile migc "$work/migrate-city.json" \
	--slurpfile sq "$work/catchup-sqlite.json" --slurpfile sqr "$work/reports-sqlite.json" --argjson pg "$pg" \
	--argjson city_bytes "$city_bytes" --argjson empty_bytes "$empty_bytes" \
	'{stamp: $stamp, host: $host, load: {start: $load_start, after_load: $load_after_load, end: $load_end},
	  n: $n, concurrency: $c, runs: $runs,
	  migration: {empty: $mig[0], city: $migc[0]},
	  load_run: $city[0][0], probe_empty: $probe[0][0], probe_city: $probe_city[0][0], cli: $cli[0][0], list_filtered: $lf[0],
	  disk: {peer: "municipality", city_bytes: $city_bytes, empty_bytes: $empty_bytes,
	         batches: $sq[0].batches, transactions: $sq[0].transactions,
	         bytes_per_batch: ($city_bytes / $sq[0].batches | round),
	         bytes_per_tx: ($city_bytes / $sq[0].transactions | round),
	         growth_per_batch: (($city_bytes - $empty_bytes) / $sq[0].batches | round)},
	  projection: {sqlite: $sq[0], postgresql: ($pg[0] // null)},
	  reports: {sqlite: $sqr[0], postgresql: ($pg[1] // null)}}' >"$out"

say "user commands: city / empty (median of $runs)"
{
	echo "COMMAND EMPTY_MS EMPTY_P90 CITY_MS CITY_P90 RATIO WITHIN_1.2"
	jq -r '.cli.commands[] | [(.command | gsub(" "; "_")), .empty.median_ms, .empty.p90_ms, .city.median_ms, .city.p90_ms, .ratio, .within] | @tsv' "$out"
} | column -t
say "projection and reports"
jq -r '.projection[] | select(. != null) | "\(.db): \(.blocks) blocks, \(.transactions) tx, \(.batches) batches in \(.seconds) s = \(.blocks_per_s) blocks/s, \(.tx_per_s) tx/s, \(.batches_per_s) batches/s"' "$out"
jq -r '.reports[] | select(. != null) | "\(.db): balance \(.balance_quarter.median_ms) ms (html \(.balance_quarter_html.median_ms)), ppwr \(.ppwr_plant_year.median_ms) ms, declarations \(.declarations_quarter.median_ms) ms; station \(.station.site) (\(.station.movements) movements): table \(.station.table.median_ms) ms, json \(.station.json.median_ms), csv \(.station.csv.median_ms), html \(.station.html.median_ms) (slowest \([.station.table.max_ms, .station.json.max_ms, .station.csv.max_ms, .station.html.max_ms] | max))"' "$out"
jq -r '.migration[] | "migration of the \(.side) network: \(.migrated) of \(.pending) batches in \(.transactions) transactions, \(.seconds) s"' "$out"
jq -r '.disk | "peer disk: \(.city_bytes) bytes = \(.bytes_per_batch) per batch, \(.bytes_per_tx) per transaction (empty network: \(.empty_bytes))"' "$out"
say "saved $out"
