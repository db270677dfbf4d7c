#!/usr/bin/env bash
# Compares fingerprints of the same scenarios and seeds between two byzsim binaries (built at
# different optimisation levels or with different compilers): determinism is the product.
# Usage: determinism_test.sh BYZSIM_A BYZSIM_B REPO_ROOT
set -euo pipefail
a="$1"
b="$2"
root="$3"
fail=0
n=0
fingerprint() {  # byzsim, scenario, seed (awk reads all the output: no SIGPIPE under pipefail)
    "$1" run "$2" --seed "$3" 2>&1 | awk '/^fingerprint/ && !seen {print $2; seen = 1}'
}
for f in quickstart.json pbft/lossy_wan.json pbft/batching_open_loop.json pbft/replay.json \
         pbft/slow_cpus.json pbft/crash_recover.json hotstuff/crashed_leader.json \
         hotstuff/twins_per_view.json rbc/equivocating_sender.json \
         rules/pbft_hold_commits.json rules/hotstuff_duplicate_and_hold.json \
         rules/hotstuff_twins_view_partition.json rules/rbc_hold_readies.json \
         mapek/drift_and_flap.json mapek/crashed_primary.json mapek/hotstuff_error_burst.json; do
    [ -f "$root/scenarios/$f" ] || { echo "FAIL: missing scenarios/$f"; fail=$((fail + 1)); continue; }
    for seed in 1 2 3; do
        fa=$(fingerprint "$a" "$root/scenarios/$f" "$seed")
        fb=$(fingerprint "$b" "$root/scenarios/$f" "$seed")
        n=$((n + 1))
        if [ -z "$fa" ] || [ "$fa" != "$fb" ]; then
            echo "FAIL $f seed $seed: '$fa' vs '$fb'"
            fail=$((fail + 1))
        fi
    done
done
# Sweeps: the drawn scenarios and every run of 150 seeds, row for row.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for f in sweeps/pbft.json sweeps/hotstuff.json sweeps/mapek.json; do
    for side in a b; do
        bin="$a"
        [ "$side" = b ] && bin="$b"
        out="$tmp/$(basename "$f" .json)-$side"
        "$bin" sweep "$root/scenarios/$f" --seeds 1..150 --jobs 2 --out "$out" --no-progress \
            >/dev/null 2>&1 || true
    done
    n=$((n + 1))
    base="$tmp/$(basename "$f" .json)"
    if [ ! -s "$base-a/sweep.csv" ] || ! cmp -s "$base-a/sweep.csv" "$base-b/sweep.csv"; then
        echo "FAIL sweep $f: sweep.csv differs between the builds"
        diff "$base-a/sweep.csv" "$base-b/sweep.csv" | head -4
        fail=$((fail + 1))
    fi
done
# Different seeds must give different traces.
f1=$("$a" run "$root/scenarios/quickstart.json" --seed 1 | grep -m1 '^fingerprint')
f2=$("$a" run "$root/scenarios/quickstart.json" --seed 2 | grep -m1 '^fingerprint')
if [ "$f1" = "$f2" ]; then echo "FAIL: seeds 1 and 2 gave the same fingerprint"; fail=$((fail + 1)); fi
echo "determinism: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
