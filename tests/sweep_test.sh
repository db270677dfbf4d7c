#!/usr/bin/env bash
# Sweeps, merges, resumes and shrinks from the command line:
#   - --jobs 1 and --jobs 2 write the same sweep.csv, with and without --stop-on-first;
#   - four shards run through GNU parallel and merged equal the unsharded sweep;
#   - a failing seed's file replays to the fingerprint sweep.csv recorded;
#   - a sweep interrupted by SIGINT keeps its finished seeds, and --resume finishes the rest
#     without repeating any, giving the uninterrupted result;
#   - --check-determinism passes; a resume of another sweep's directory is refused;
#   - shrinking a failure keeps its invariant and does not grow the scenario;
#   - a hunt of two sweeps of one protocol keeps each sweep's failures in its own directory;
#   - a bug hunted with the fix that masks it undone (B+M) shrinks to a case M alone passes.
# Usage: sweep_test.sh BYZSIM SOURCE_ROOT
set -uo pipefail
byzsim="$1"
root="$2"
unsafe="$root/tests/data/sweep_unsafe.json"
honest="$root/scenarios/sweeps/pbft.json"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

sweep() {  # out-dir, then options; prints nothing, returns the exit status
    local out="$1"
    shift
    "$byzsim" sweep "$@" --out "$tmp/$out" --no-progress >"$tmp/$out.log" 2>&1
}

# --- jobs do not change the result ---
sweep j1 "$unsafe" --seeds 1..120 --jobs 1
rc1=$?
sweep j2 "$unsafe" --seeds 1..120 --jobs 2
rc2=$?
[ "$rc1" = 1 ] && [ "$rc2" = 1 ] || fail "unsafe sweep exit codes $rc1/$rc2, expected 1 (violations)"
cmp -s "$tmp/j1/sweep.csv" "$tmp/j2/sweep.csv" || fail "--jobs 1 and --jobs 2 differ"
[ "$(wc -l <"$tmp/j1/sweep.csv")" = 121 ] || fail "expected 120 rows and a header"
violations=$(grep -c ',violation,' "$tmp/j1/sweep.csv")
[ "$violations" -ge 1 ] || fail "the unsafe sweep found no violation"
[ "$(ls "$tmp/j1/failures" | wc -l)" = "$violations" ] || fail "one failure file per violation"

sweep s1 "$unsafe" --seeds 1..120 --jobs 1 --stop-on-first
sweep s2 "$unsafe" --seeds 1..120 --jobs 2 --stop-on-first
cmp -s "$tmp/s1/sweep.csv" "$tmp/s2/sweep.csv" || fail "--stop-on-first differs between jobs"
first=$(grep -m1 ',violation,' "$tmp/j1/sweep.csv" | cut -d, -f1)
last=$(tail -1 "$tmp/s1/sweep.csv" | cut -d, -f1)
[ "$first" = "$last" ] || fail "--stop-on-first ends at seed $last, expected the first failure $first"
[ "$(ls "$tmp/s2/failures")" = "seed-$first.json" ] || fail "--stop-on-first keeps failure files beyond the first"

# --- a failure file replays to the recorded fingerprint, and its expectation holds ---
want=$(grep "^$first," "$tmp/j1/sweep.csv" | cut -d, -f7)
got=$("$byzsim" run "$tmp/j1/failures/seed-$first.json" -q | awk '/fingerprint/ {print $(NF-2)}')
[ "$want" = "$got" ] || fail "seed $first replays to $got, sweep.csv says $want"
"$byzsim" run "$tmp/j1/failures/seed-$first.json" -q >/dev/null ||
    fail "the failure file's expect block (the violation) is not met"
"$byzsim" validate "$tmp/j1/failures/seed-$first.json" >/dev/null || fail "failure file invalid"
grep -q '"randomize"' "$tmp/j1/failures/seed-$first.json" && fail "failure file keeps randomize"

# --- four shards through GNU parallel, merged ---
if command -v parallel >/dev/null; then
    parallel --halt never -j 4 "$byzsim" sweep "$unsafe" --seeds 1..120 --jobs 1 --shard {}/4 \
        --out "$tmp/shard{}" --no-progress ::: 1 2 3 4 >"$tmp/parallel.log" 2>&1
    "$byzsim" merge "$tmp"/shard1 "$tmp"/shard2 "$tmp"/shard3 "$tmp"/shard4 --out "$tmp/merged" \
        >"$tmp/merge.log" 2>&1
    cmp -s "$tmp/merged/sweep.csv" "$tmp/j1/sweep.csv" || fail "merged shards differ from the sweep"
    diff -r "$tmp/merged/failures" "$tmp/j1/failures" >/dev/null || fail "merged failures differ"
    "$byzsim" merge "$tmp/shard1" "$tmp/shard1" --out "$tmp/bad" >/dev/null 2>&1
    [ $? = 2 ] || fail "merging one shard twice is not refused with exit 2"
    "$byzsim" merge "$tmp/shard1" "$tmp/j2" --out "$tmp/bad2" >/dev/null 2>&1
    [ $? = 2 ] || fail "merging different sweeps is not refused with exit 2"
else
    fail "GNU parallel is missing (tools/deps installs it)"
fi

# --- interrupt, then resume ---
sweep full "$honest" --seeds 1..1500 --jobs 2
timeout --preserve-status -s INT 1 "$byzsim" sweep "$honest" --seeds 1..1500 --jobs 2 \
    --out "$tmp/cut" --no-progress >"$tmp/cut.log" 2>&1
rc=$?
kept=$(($(wc -l <"$tmp/cut/sweep.csv") - 1))
if [ "$rc" = 130 ]; then
    [ "$kept" -gt 0 ] || fail "the interrupted sweep kept no seeds"
    # Every kept row is exactly the uninterrupted one.
    tail -n +2 "$tmp/cut/sweep.csv" | while read -r row; do
        grep -qxF "$row" "$tmp/full/sweep.csv" || { echo "FAIL: kept row differs: $row"; exit 1; }
    done || failures=$((failures + 1))
    sweep cut "$honest" --seeds 1..1500 --jobs 2 --resume
    cmp -s "$tmp/cut/sweep.csv" "$tmp/full/sweep.csv" || fail "resumed sweep differs"
    ran=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['seeds_run'])" "$tmp/cut/sweep.json")
    [ $((kept + ran)) = 1500 ] || fail "resume ran $ran seeds after $kept kept; expected $((1500 - kept))"
elif [ "$rc" -le 1 ]; then
    echo "note: the sweep finished within 1s, before the interrupt; resume not exercised"
else
    fail "interrupted sweep exited $rc, expected 130"
fi
"$byzsim" sweep "$unsafe" --seeds 1..10 --out "$tmp/full" --no-progress >/dev/null 2>&1
[ $? = 2 ] || fail "a sweep into another sweep's directory is not refused"
"$byzsim" sweep "$unsafe" --seeds 1..10 --out "$tmp/full" --resume --no-progress >/dev/null 2>&1
[ $? = 2 ] || fail "resuming a different sweep is not refused"

# --- bad command lines and files: exit 2 with a message ---
for args in "--seeds 5..1" "--seeds x" "--shard 5/4" "--shard 0/2" "--jobs 0" "--time-budget 5"; do
    # shellcheck disable=SC2086
    "$byzsim" sweep "$unsafe" $args --out "$tmp/badargs" --no-progress >"$tmp/bad.log" 2>&1
    [ $? = 2 ] && grep -q '^error:' "$tmp/bad.log" || fail "sweep $args: not refused with exit 2"
done
"$byzsim" sweep "$tmp/no-such-file.json" --out "$tmp/badfile" >"$tmp/bad.log" 2>&1
[ $? = 2 ] || fail "sweep of a missing file: not exit 2"

# --- determinism self-check ---
sweep det "$unsafe" --seeds 1..40 --jobs 2 --check-determinism
grep -q nondeterministic "$tmp/det/sweep.csv" && fail "--check-determinism reports a difference"
cut -d, -f1-7 "$tmp/det/sweep.csv" | cmp -s - <(head -41 "$tmp/j1/sweep.csv") ||
    fail "--check-determinism rows differ from the plain sweep"

# --- shrinking ---
"$byzsim" shrink "$tmp/j1/failures/seed-$first.json" --out "$tmp/min.json" >"$tmp/shrink.log" 2>&1 ||
    fail "shrink failed: $(tail -3 "$tmp/shrink.log")"
"$byzsim" run "$tmp/min.json" -q >/dev/null || fail "the shrunk scenario does not fail as it expects"
want=$(grep -m1 ',violation,' "$tmp/j1/sweep.csv" | cut -d, -f3)
grep -q "\"invariant\": \"$want\"" "$tmp/min.json" || fail "the shrunk scenario fails another invariant than $want"
python3 - "$tmp/j1/failures/seed-$first.json" "$tmp/min.json" <<'EOF' || fail "shrinking grew the scenario"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
size = lambda d: (len(d.get("faults", [])), d["nodes"], d.get("workload", {}).get("requests", 10))
sys.exit(0 if all(y <= x for x, y in zip(size(a), size(b))) else 1)
EOF
"$byzsim" shrink "$root/scenarios/quickstart.json" --out "$tmp/q.json" >/dev/null 2>&1
[ $? = 2 ] || fail "shrinking a scenario that does not fail is not refused with exit 2"

# --- hunting two sweeps of one protocol: each keeps its own failures ---
"$byzsim" hunt "$honest" "$root/scenarios/sweeps/pbft-long-outages.json" --seeds 1..200 \
    --mutations commit_quorum_2f --no-honest --out "$tmp/hunt" --no-progress >"$tmp/hunt.log" 2>&1 ||
    fail "hunt of commit_quorum_2f in two sweeps: $(tail -3 "$tmp/hunt.log")"
for d in pbft-commit_quorum_2f pbft-long-outages-commit_quorum_2f; do
    ls "$tmp/hunt/$d/failures/"seed-*.min.json >/dev/null 2>&1 || fail "hunt: no shrunk failure in $d"
done

# --- a bug hunted with the fix that masks it undone (B+M): its case fails, M's alone does not ---
basic="$root/scenarios/sweeps/hotstuff-basic.json"
"$byzsim" hunt "$basic" --seeds 1..300 --mutations ignore_old_decide+no_idle_sync --no-honest \
    --out "$tmp/masked" --no-progress >"$tmp/masked.log" 2>&1 ||
    fail "hunt of ignore_old_decide+no_idle_sync: $(tail -3 "$tmp/masked.log")"
min=$(find "$tmp/masked" -name 'seed-*.min.json' | head -1)
if [ -z "$min" ]; then
    fail "hunt B+M: no shrunk case"
else
    "$byzsim" run "$min" -q >/dev/null || fail "hunt B+M: the shrunk case does not fail"
    python3 - "$min" "$tmp/alone.json" <<'EOF' || fail "hunt B+M: the case is not B and M"
import json, sys
d = json.load(open(sys.argv[1]))
if d["protocol"]["mutations"] != ["ignore_old_decide", "no_idle_sync"]:
    sys.exit(1)
d["protocol"]["mutations"] = ["no_idle_sync"]
d.pop("expect")
json.dump(d, open(sys.argv[2], "w"))
EOF
    "$byzsim" run "$tmp/alone.json" -q >/dev/null || fail "hunt B+M: the masking bug alone fails the case"
fi
"$byzsim" hunt "$basic" --seeds 1..3 --mutations ignore_old_decide++no_idle_sync \
    --out "$tmp/badmask" --no-progress >/dev/null 2>&1
[ $? = 2 ] || fail "hunt: a B+M name with an empty part is not refused with exit 2"

if [ "$failures" -eq 0 ]; then
    echo "sweep tests passed"
    exit 0
fi
echo "$failures sweep test(s) failed"
exit 1
