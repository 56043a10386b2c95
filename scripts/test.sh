#!/usr/bin/env bash
# test.sh runs mtrace's tests.
#
#   test.sh unit   unit tests of every package (no network)
#   test.sh e2e    bring a fresh test network up, run the end-to-end suites
#                  against it in the order test/internal/harness/suites.go
#                  declares (a suite declared Fresh gets a new network;
#                  one declared Own brings its own and runs apart),
#                  stop it; each suite's log goes to .mtrace-test-logs/
#   test.sh fabric the Fabric and SmartBFT patches (network/tools/patches/
#                  fabric, smartbft): the patched packages' tests pass on the
#                  patched source, and the regression tests alone fail on
#                  the pristine source
#   test.sh fuzz   every fuzz target for FUZZTIME (default 60s), on Go 1.27
#   test.sh all    unit, fabric, then e2e, then fuzz
#
# The test network has its own home (.mtrace-test) and ports (from 28000), so
# a demo network that is running is left alone. It is stopped by PID when the
# tests end, whether they passed or not.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

say() { printf '\n==> %s\n' "$*"; }

unit() {
	say "unit tests"
	go test -count=1 -cover ./...
}

# The packages the patches touch, and the one that holds the regression
# tests (whose names the test patches declare), per patched module.
fabric_pkgs=(./core/committer/txvalidator/v20/... ./core/common/validation/statebased/... ./core/handlers/validation/builtin/... ./core/deliverservice/...)
fabric_test_pkg=./core/committer/txvalidator/v20
smartbft_pkgs=(./internal/bft/...)
smartbft_test_pkg=./internal/bft

# pristine_fails NAME PKG: apply only NAME's test patches to a pristine copy
# and require each regression test that they add to PKG to fail there.
pristine_fails() {
	local name=$1 pkg=$2 dir=$root/build/$1-test t tests=() pids=() bad=""
	say "$name patches: the regression tests fail on the pristine source"
	scripts/fabric-source.sh "$dir/pristine" tests "$name"
	(cd "$dir/pristine" && go test -c -o "$dir/pristine.test" "$pkg")
	mapfile -t tests < <(sed -nE 's/^\+func (Test[A-Za-z0-9_]+)\(t \*testing\.T\).*/\1/p' "network/tools/patches/$name"/*-tests-*.patch)
	((${#tests[@]} > 0)) || { echo "no regression tests found in the $name test patches" >&2; return 1; }
	# Without the fix each test waits for its deadline (or the code
	# panics), so they run at once; each must fail, and none of its
	# subtests may pass.
	for t in "${tests[@]}"; do
		(cd "$dir/pristine/${pkg#./}" && "$dir/pristine.test" -test.count=1 -test.v -test.run "^$t\$" >"$dir/$t.log" 2>&1) &
		pids+=($!)
	done
	for i in "${!tests[@]}"; do
		t=${tests[$i]}
		if wait "${pids[$i]}" || grep -aq -- '--- PASS' "$dir/$t.log" || ! grep -aqE -- "--- FAIL: $t|^panic: " "$dir/$t.log"; then
			bad+=" $t"
			echo "$t: did not fail on the pristine source (log: $dir/$t.log)" >&2
		else
			echo "$t: fails without the fix ($(grep -aoE '(did not complete|did not start|did not happen) within [0-9a-z]+|^panic: .{0,40}' "$dir/$t.log" | head -n 1))"
		fi
	done
	[[ -z $bad ]] || { echo "regression tests that pass without the fix:$bad" >&2; return 1; }
}

fabric() {
	local dir=$root/build/fabric-test
	say "Fabric patches: the patched packages' tests, on the patched source"
	scripts/fabric-source.sh "$dir/patched" all fabric
	(cd "$dir/patched" && go test -count=1 "${fabric_pkgs[@]}")
	pristine_fails fabric "$fabric_test_pkg"

	dir=$root/build/smartbft-test
	say "smartbft patches: the patched packages' tests, on the patched source"
	scripts/fabric-source.sh "$dir/patched" all smartbft
	(cd "$dir/patched" && go test -count=1 "${smartbft_pkgs[@]}")
	pristine_fails smartbft "$smartbft_test_pkg"
}

e2e() {
	export MTRACE_HOME="$root/.mtrace-test"
	export MTRACE_BASE_PORT="${MTRACE_TEST_BASE_PORT:-28000}"
	export MTRACE_CONFIG="$MTRACE_HOME/config.yaml"
	export MTRACE_BIN="$root/bin"
	local logs="$root/.mtrace-test-logs" plan rc=0 first=1
	local name kind target timeout fresh about
	# The suites, their order and what each needs are declared once, in
	# test/internal/harness/suites.go; the plan fails if the order does not
	# keep every suite's needs.
	plan=$(go run ./test/internal/harness/cmd/suites plan) || return 1
	rm -rf "$logs"
	mkdir -p "$logs"
	say "fresh test network in $MTRACE_HOME (ports from $MTRACE_BASE_PORT)"
	scripts/network.sh down --purge >/dev/null 2>&1 || true
	trap 'say "stopping the test network"; scripts/network.sh down' EXIT
	scripts/network.sh up
	while IFS=$'\t' read -r name kind target timeout fresh about; do
		if [[ $fresh == own ]]; then
			# The suite brings its own network (and stops it); the shared
			# one is left as it is, and its environment is not the suite's.
			say "$name: $about ($target, its own network)"
			env -u MTRACE_HOME -u MTRACE_CONFIG -u MTRACE_BASE_PORT \
				go test -count=1 -p 1 -tags e2e -timeout "$timeout" -v "$target" 2>&1 | tee "$logs/$name.log" || rc=1
			continue
		fi
		if [[ $fresh == fresh && $first == 0 ]]; then
			say "a fresh network for $name"
			scripts/network.sh down --purge >/dev/null
			scripts/network.sh up
		fi
		first=0
		say "$name: $about ($target)"
		case $kind in
		go)
			# pipefail makes the pipeline's status go test's own.
			go test -count=1 -p 1 -tags e2e -timeout "$timeout" -v "$target" 2>&1 | tee "$logs/$name.log" || rc=1
			;;
		script)
			if go run ./test/internal/harness/cmd/suites begin "$name" && "$target" >"$logs/$name.log" 2>&1; then
				echo "$name: ok (log: $logs/$name.log)"
			else
				echo "$name: FAILED; last lines of $logs/$name.log:" >&2
				tail -n 30 "$logs/$name.log" >&2
				rc=1
			fi
			;;
		esac
	done <<<"$plan"
	say "stopping the test network"
	scripts/network.sh down
	trap - EXIT
	say "suite logs in $logs"
	return "$rc"
}

# Go 1.26's fuzz coordinator can end a timed run with a bare "context deadline
# exceeded" failure when its workers are starved at the deadline
# (go.dev/issue/75804): no input fails, no reproducer is written. Go 1.27
# carries the fix, so the fuzz runs (and only they) use a 1.27 toolchain,
# fetched from the Go module proxy like any module. The module itself still
# builds with the machine's Go 1.26.
FUZZ_TOOLCHAIN=${MTRACE_FUZZ_TOOLCHAIN:-go1.27.3}

fuzz() {
	local t=${FUZZTIME:-60s} pkg target
	say "fuzz targets, $t each (toolchain $FUZZ_TOOLCHAIN)"
	while read -r pkg target; do
		echo "--- $target ($pkg)"
		GOTOOLCHAIN=$FUZZ_TOOLCHAIN go test -run='^$' -fuzz="^${target}\$" -fuzztime="$t" "$pkg"
	done < <(grep -rl --include='*_test.go' -E '^func Fuzz' chaincode client |
		xargs grep -hoE '^func Fuzz[A-Za-z0-9_]+' --with-filename |
		sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+)#./\1 \2#' | sort -u)
}

case "${1:-all}" in
unit) unit ;;
fabric) fabric ;;
e2e) e2e ;;
fuzz) fuzz ;;
all)
	unit
	fabric
	e2e
	fuzz
	;;
*)
	echo "usage: $0 unit|e2e|fuzz|all" >&2
	exit 2
	;;
esac
