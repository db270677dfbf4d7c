#!/usr/bin/env bash
# Shrinking never writes what validate refuses: 200 failing sweep seeds of each protocol (its
# swarm sweep with one seeded bug at a time switched on, so the failures differ in kind) are
# each shrunk, and every minimal scenario written must pass `byzsim validate`, then fail again
# under `byzsim run` with the invariant it records.
# Usage: shrink_valid_test.sh BYZSIM_BINARY REPO_ROOT
set -euo pipefail

byzsim=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
want=200
failures=0

declare -A bugs=(
    [pbft]="commit_quorum_2f prepare_ignores_digest out_of_order_execution accept_replica_requests"
    [hotstuff]="two_chain_commit accept_small_qc vote_without_lock_check trust_block_height"
    [rbc]="ready_needs_quorum_only trust_send_request"
)
# Bracha's bugs show in few seeds: its sweeps run longer.
declare -A seeds=([pbft]=1..1500 [hotstuff]=1..1500 [rbc]=1..8000)

# with_bug SWEEP BUG OUT: the sweep scenario with /protocol/mutations = [BUG].
with_bug() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
if isinstance(doc.get("protocol"), str):
    doc["protocol"] = {"name": doc["protocol"]}
doc["protocol"]["mutations"] = [sys.argv[2]]
json.dump(doc, open(sys.argv[3], "w"), indent=1)
PY
}

for proto in pbft hotstuff rbc; do
    read -r -a list <<<"${bugs[$proto]}"
    for bug in "${list[@]}"; do
        with_bug "$root/scenarios/sweeps/$proto.json" "$bug" "$work/$proto-$bug.json"
        "$byzsim" sweep "$work/$proto-$bug.json" --seeds "${seeds[$proto]}" --out "$work/$proto-$bug" \
            --quiet >/dev/null || true
    done
    # Round robin over the bugs, lowest seeds first, until there are $want.
    mapfile -t picked < <(for bug in "${list[@]}"; do
        ls "$work/$proto-$bug/failures/" 2>/dev/null | grep -E '^seed-[0-9]+\.json$' | sort -V |
            awk -v dir="$work/$proto-$bug/failures" '{ print NR "\t" dir "/" $0 }'
    done | sort -s -n -k1,1 | cut -f2 | head -n "$want")
    if ((${#picked[@]} < want)); then
        echo "FAIL: $proto: only ${#picked[@]} failing seeds (wanted $want)"
        failures=$((failures + 1))
        continue
    fi
    mkdir -p "$work/min-$proto"
    shrunk=()
    for f in "${picked[@]}"; do
        bug=$(basename "$(dirname "$(dirname "$f")")")
        out="$work/min-$proto/$bug-$(basename "$f")"
        if ! "$byzsim" shrink "$f" --quiet --max-runs 400 --reseeds 8 --out "$out" \
            >"$work/shrink.log" 2>&1; then
            echo "FAIL: shrink $f"
            sed 's/^/  /' "$work/shrink.log"
            failures=$((failures + 1))
            continue
        fi
        shrunk+=("$out")
    done
    if ! "$byzsim" validate "${shrunk[@]}" >"$work/validate.log" 2>&1; then
        echo "FAIL: $proto: validate refuses a shrunk scenario"
        grep -v '^ok: ' "$work/validate.log" | sed 's/^/  /' | head -20
        failures=$((failures + 1))
        continue
    fi
    # Each minimal file expects its violation: run exits 0 when it is found again.
    bad=0
    for m in "${shrunk[@]}"; do
        "$byzsim" run "$m" --quiet >/dev/null 2>&1 || { echo "FAIL: $m no longer fails as recorded"; bad=$((bad + 1)); }
    done
    failures=$((failures + bad))
    echo "ok: $proto: ${#shrunk[@]} failing seeds shrunk; validate accepts every one, and each fails again"
done

if ((failures > 0)); then
    echo "$failures failure(s)"
    exit 1
fi
echo "all shrunk scenarios valid"
