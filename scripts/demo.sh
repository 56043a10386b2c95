#!/usr/bin/env bash
# demo.sh plays the mtrace story on a running network with the mtrace CLI,
# printing every command as a user would type it:
#
#   1. Two operators of Istanbul's waste company, Ayşe and Mehmet, each with
#      a certificate of their own from the municipality's Fabric CA, register
#      three PET collections and hand them to the recycler; Zeynep, a viewer,
#      reads who registered what.
#   2. The recycler weighs them in, then sorts, washes and shreds them.
#   3. It extrudes filament, anchors a lab certificate, ships a spool.
#   4. The maker prints a product, verifies its provenance and publishes
#      its passport page (checks its proof in the browser).
#   5. The auditor reads the history and the extrusion's process record,
#      draws the trace and audits the ledger-wide mass balance.
#   6. The auditor quarantines one collection: verify fails, a new
#      passport says so, and the downstream trace lists what a recall must
#      reach.
#   7. The consortium renames the auditor's organisation: its admin
#      proposes, admins of a majority of members approve (a plain user's
#      approval is refused), and the registry changes.
#   8. The auditor exports the vase's provenance as GS1 EPCIS 2.0 JSON-LD
#      and checks it against GS1's schema.
#   9. With the network stopped, anyone checks the vase's two proofs (made
#      before and after the quarantine) offline against the genesis hash:
#      both authentic, the first holds, the second does not; tampered
#      copies are not authentic. The network is then started again.
#  10. The auditor projects the ledger into SQLite and produces the
#      quarter's mass balance of the recycler's plant and the PPWR line of
#      the maker's plant (both organisations list their sites first, in
#      chapter 0, so that every receipt and process records its site).
#      What they cover is written to $MTRACE_HOME/demo-statements.json:
#      the demo suite (test/demo) plays this script, then rebuilds both
#      statements from the chain and compares every figure.
#
# `make demo` starts the network first. Ids carry a run suffix, so the demo
# can be played again on the same ledger.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export MTRACE_HOME=${MTRACE_HOME:-$root/.mtrace}
export MTRACE_CONFIG=${MTRACE_CONFIG:-$MTRACE_HOME/config.yaml}
export PATH="$root/bin:$PATH"

if [[ ! -f $MTRACE_CONFIG ]]; then
	echo "demo: no CLI config at $MTRACE_CONFIG; start the network with 'make network-up' first" >&2
	exit 1
fi

bold=$'\e[1m' dim=$'\e[2m' off=$'\e[0m'
if [[ ! -t 1 ]]; then bold='' dim='' off=''; fi

chapter() { printf '\n%s## %s%s\n' "$bold" "$*" "$off"; }
# step prints a command the way a user would type it, then runs it.
step() {
	local shown=() a
	for a in "$@"; do
		if [[ $a =~ [[:space:]\"\'] ]]; then shown+=("\"$a\""); else shown+=("$a"); fi
	done
	printf '%s$ %s%s\n' "$dim" "${shown[*]}" "$off"
	"$@"
}

s=$(date +%m%d%H%M%S)
k=IST-KDK-$s u=IST-USK-$s b=IST-BSK-$s
sorted=RCY-SRT-$s washed=RCY-WSH-$s flakes=RCY-FLK-$s
spool1=FIL-PET-$s-001 spool2=FIL-PET-$s-002 vase=MKR-VASE-$s
cert=$(mktemp -d)/lab-certificate-$s.txt
trap 'rm -rf "$(dirname "$cert")"' EXIT
proofs=$MTRACE_HOME/proofs
mkdir -p "$proofs"
# What chapter 10 reports on, for the demo suite's check of its statements
# against the chain (test/demo); written once they are printed.
statements=$MTRACE_HOME/demo-statements.json
rm -f "$statements"

# The recycler's plant and the maker's workshop, by GLN (13 digits, the
# last the GS1 check digit).
recycler_site=8690000000029 maker_site=8690000000043
chapter "0. The recycler and the maker list their sites"
step mtrace -p recycler-admin site add "$recycler_site" --name "Gebze recycling plant" --default
step mtrace -p maker-admin site add "$maker_site" --name "Kadıköy print workshop" --default

chapter "1. Two municipality operators register three PET collections and hand them to the recycler"
step mtrace -p municipality-ayse batch register "$k" --material PET --mass 1250kg --location "Kadıköy, Istanbul" --collected-at 2026-11-20T09:30:00+03:00 --waste-code "15 01 02"
step mtrace -p municipality-ayse batch register "$u" --material PET --mass 980kg --location "Üsküdar, Istanbul" --collected-at 2026-11-20T10:15:00+03:00 --waste-code "15 01 02"
step mtrace -p municipality-mehmet batch register "$b" --material PET --mass 1.1t --location "Beşiktaş, Istanbul" --collected-at 2026-11-20T11:05:00+03:00 --waste-code "15 01 02"
step mtrace -p municipality-ayse batch transfer "$k" --to RecyclerMSP
step mtrace -p municipality-ayse batch transfer "$u" --to RecyclerMSP
step mtrace -p municipality-mehmet batch transfer "$b" --to RecyclerMSP
step mtrace -p municipality-zeynep history "$k"
step mtrace -p municipality-zeynep history "$b"

chapter "2. The recycler weighs them in, then sorts, washes and shreds them into flakes"
step mtrace -p recycler batch accept "$k" --received-mass 1240kg
step mtrace -p recycler batch accept "$u" --received-mass 975kg
step mtrace -p recycler batch accept "$b"
step mtrace -p recycler batch process --step sorting --in "$k:1240kg" --in "$u:975kg" --in "$b:1100kg" --out "$sorted:PET:sorted:3200kg"
step mtrace -p recycler batch process --step washing --in "$sorted:3200kg" --out "$washed:PET:sorted:3050kg"
step mtrace -p recycler batch process --step shredding --in "$washed:3050kg" --out "$flakes:PET:flakes:2980kg"

chapter "3. The recycler extrudes filament, anchors a lab certificate and ships a spool"
step mtrace -p recycler batch process --step extrusion --in "$flakes:2.2kg" --out "$spool1:PET:filament:1kg" --out "$spool2:PET:filament:1kg"
printf 'Lab report for %s: rPET filament 1.75 mm, IV 0.78 dl/g, moisture 45 ppm\n' "$spool1" >"$cert"
step mtrace -p recycler batch attach "$spool1" "$cert" --name "lab certificate"
step mtrace -p recycler batch transfer "$spool1" --to MakerMSP

chapter "4. The maker prints a vase and verifies where it came from"
step mtrace -p maker batch accept "$spool1"
step mtrace -p maker batch process --step printing --in "$spool1:350g" --out "$vase:PET:product:310g"
step mtrace -p maker verify "$vase" --document "$cert"
step mtrace -p maker proof export "$vase" --file "$proofs/$vase-holds.proof"
passport=$MTRACE_HOME/passport-$vase
step mtrace -p maker passport "$vase" --out "$passport"

chapter "5. The auditor reads the history, draws the trace and audits the ledger"
step mtrace -p auditor history "$spool1"
extrusion=$(mtrace -p auditor batch get "$spool1" -o json | jq -r .origin.process.tx)
step mtrace -p auditor process "$extrusion"
step mtrace -p auditor trace "$vase"
step mtrace -p auditor trace "$vase" --format mermaid
step mtrace -p auditor audit

chapter "6. The auditor quarantines one collection: verify fails, and the recall trace"
step mtrace -p auditor batch quarantine "$u" --reason "contamination reported by the sorting line"
rc=0
step mtrace -p maker verify "$vase" || rc=$?
if ((rc != 1)); then
	echo "demo: verify exited $rc after the quarantine, want 1 (provenance does not hold)" >&2
	exit 1
fi
echo "(verify exited 1, as it must: the product descends from a quarantined batch)"
step mtrace -p maker proof export "$vase" --file "$proofs/$vase-quarantined.proof"
step mtrace -p maker passport "$vase" --out "$passport-after-quarantine"
step mtrace -p auditor trace "$u" --down

chapter "7. The consortium renames the auditor's organisation by majority vote of its admins"
printf '%s$ %s%s\n' "$dim" 'mtrace -p auditor-admin registry propose --msp AuditorMSP --role auditor --name "Circular Materials Certification B.V."' "$off"
proposal=$(mtrace -p auditor-admin registry propose --msp AuditorMSP --role auditor --name "Circular Materials Certification B.V." -o json | jq -r .id)
echo "Proposed $proposal"
step mtrace -p auditor registry proposals
step mtrace -p auditor-admin registry approve "$proposal"
step mtrace -p maker-admin registry approve "$proposal"
rc=0
step mtrace -p recycler registry approve "$proposal" || rc=$?
if ((rc != 1)); then
	echo "demo: a plain user's approval exited $rc, want 1 (only admins vote)" >&2
	exit 1
fi
echo "(refused, as it must be: only an organisation's admin identity may approve)"
step mtrace -p municipality-admin registry approve "$proposal"
step mtrace -p auditor registry show

chapter "8. The auditor exports the vase's provenance as GS1 EPCIS 2.0 and checks it against GS1's schema"
epcis=$MTRACE_HOME/epcis-$vase.jsonld
step mtrace -p auditor epcis export "$vase" --file "$epcis"
step mtrace epcis validate "$epcis"

chapter "9. Anyone checks the proofs offline: the network is stopped"
genesis=$(awk '$1 == "genesis:" {print $2; exit}' "$MTRACE_CONFIG")
if [[ -z $genesis ]]; then
	echo "demo: no genesis hash in $MTRACE_CONFIG" >&2
	exit 1
fi
step "$root/scripts/network.sh" down
# want EXIT FILE: verify FILE with no config and no network, and require
# exit status EXIT (0 authentic and holds, 1 authentic and fails, 3 not
# authentic); the output is kept in $out.
want() {
	local exit=$1 file=$2 rc=0
	printf '%s$ mtrace proof verify %s --genesis %s%s\n' "$dim" "$file" "$genesis" "$off"
	out=$(env -u MTRACE_CONFIG -u MTRACE_PROFILE mtrace proof verify "$file" --genesis "$genesis" 2>&1) || rc=$?
	printf '%s\n' "$out"
	if ((rc != exit)); then
		echo "demo: proof verify $file exited $rc, want $exit" >&2
		exit 1
	fi
}
want 0 "$proofs/$vase-holds.proof"
want 1 "$proofs/$vase-quarantined.proof"
if ! grep -Eq "^FAIL +not-quarantined .*$u" <<<"$out" || grep -Eq "^FAIL +signatures" <<<"$out"; then
	echo "demo: the quarantined proof's verdict must fail not-quarantined naming $u, and nothing else" >&2
	exit 1
fi
echo "(authentic, and it does not hold: it names the quarantine of $u)"
# A byte of a block flipped, and a peer's validity answer removed: neither
# copy is authentic.
jq '.blocks[0] |= (.[0:120] + (if .[120:121] == "A" then "B" else "A" end) + .[121:])' \
	"$proofs/$vase-holds.proof" >"$proofs/$vase-flipped.proof"
want 3 "$proofs/$vase-flipped.proof"
jq '.validity |= .[1:]' "$proofs/$vase-holds.proof" >"$proofs/$vase-unattested.proof"
want 3 "$proofs/$vase-unattested.proof"
echo "(not authentic, as they must not be)"
step "$root/scripts/network.sh" up

chapter "10. The auditor's period statements: the quarter's mass balance of the recycler's plant, the maker's PPWR line"
db=sqlite:$MTRACE_HOME/projection.db
year=$(date -u +%Y) month=$((10#$(date -u +%m)))
qfirst=$(((month - 1) / 3 * 3 + 1))
qfrom=$(printf '%s-%02d-01' "$year" "$qfirst")
qto=$(date -u -d "$qfrom +3 months -1 day" +%F)
step mtrace -p auditor project --db "$db" --once
# --fail-on-negative: a balance below zero at any time in the quarter
# fails the demo.
step mtrace report balance --db "$db" --site "$recycler_site" --from "$qfrom" --to "$qto" --fail-on-negative
balance=$MTRACE_HOME/balance-$recycler_site-$qfrom.html
mtrace report balance --db "$db" --site "$recycler_site" --from "$qfrom" --to "$qto" --format html >"$balance"
echo "(the same statement as a page an auditor signs: $balance)"
printf '%s$ %s%s\n' "$dim" "mtrace report ppwr --db $db --plant $maker_site --year $year" "$off"
ppwr=$(mtrace report ppwr --db "$db" --plant "$maker_site" --year "$year")
printf '%s\n' "$ppwr"
if ! grep -Eq '^PET +[0-9]+ ' <<<"$ppwr"; then
	echo "demo: the maker's PPWR statement has no PET line" >&2
	exit 1
fi
jq -n --arg db "$db" --arg site "$recycler_site" --arg from "$qfrom" --arg to "$qto" --arg plant "$maker_site" --argjson year "$year" \
	'{db: $db, site: $site, from: $from, to: $to, plant: $plant, year: $year}' >"$statements"

chapter "Done"
cat <<EOF
The network is still running. Try it yourself:
  export MTRACE_CONFIG=$MTRACE_CONFIG
  mtrace -p auditor batch list --owner RecyclerMSP
  mtrace -p auditor trace $u --down --format dot | dot -Tsvg > recall.svg
  jq '.epcisBody.eventList[] | {type, bizStep, eventTime}' $epcis
  chromium $passport/index.html   # the vase's passport, checked in the browser
  chromium $balance                # the recycler's quarterly balance, ready to sign
Stop it with 'make network-down' (the ledger is kept), or 'make network-purge'.
EOF
