#!/usr/bin/env bash
# deps.sh installs what a fresh machine lacks for mtrace: the Debian packages
# the scripts and tests call, the Go modules of both modules, and the Fabric
# binaries built from the Go module proxy. Each step is skipped when its
# result is already there, so running it again costs a second or two.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

say() { printf '==> %s\n' "$*"; }

# Debian packages: command -> package.
declare -A wanted=([curl]=curl [jq]=jq [patch]=patch [envsubst]=gettext-base [setsid]=util-linux [shellcheck]=shellcheck [dot]=graphviz [chromium]=chromium [ip]=iproute2)
missing=()
for cmd in "${!wanted[@]}"; do
	command -v "$cmd" >/dev/null 2>&1 || missing+=("${wanted[$cmd]}")
done
# PostgreSQL's server binaries are not on PATH: the projection's tests
# start one from /usr/lib/postgresql/<version>/bin (internal/pgtest).
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
	missing+=(postgresql)
fi
if ((${#missing[@]} > 0)); then
	say "installing Debian packages: ${missing[*]}"
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null 2>&1 || { echo "deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
		sudo=(sudo)
	fi
	export DEBIAN_FRONTEND=noninteractive
	# Debian's postgresql would make a cluster and start a server on
	# port 5432 that nothing of ours started or stops: the tests run
	# their own servers, so ask for no cluster.
	if [[ " ${missing[*]} " == *" postgresql "* && ! -f /etc/postgresql-common/createcluster.conf ]]; then
		"${sudo[@]}" mkdir -p /etc/postgresql-common
		echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
	fi
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
fi

command -v go >/dev/null 2>&1 || { echo "deps: Go 1.26 or later is required (https://go.dev/dl/)" >&2; exit 1; }

say "downloading Go modules"
go mod download
(cd network/tools && go mod download)
(cd network/tools/ca && go mod download)

"$root/scripts/build-fabric.sh"
