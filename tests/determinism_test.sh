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
for f in quickstart.json pbft/lossy_wan.json pbft/batching_open_loop.json pbft/replay.json \
         pbft/slow_cpus.json pbft/crash_recover.json; do
    for seed in 1 2 3; do
        fa=$("$a" run "$root/scenarios/$f" --seed "$seed" 2>&1 | grep -m1 '^fingerprint' | awk '{print $2}')
        fb=$("$b" run "$root/scenarios/$f" --seed "$seed" 2>&1 | grep -m1 '^fingerprint' | awk '{print $2}')
        n=$((n + 1))
        if [ -z "$fa" ] || [ "$fa" != "$fb" ]; then
            echo "FAIL $f seed $seed: '$fa' vs '$fb'"
            fail=$((fail + 1))
        fi
    done
done
# Different seeds must give different traces.
f1=$("$a" run "$root/scenarios/quickstart.json" --seed 1 | grep -m1 '^fingerprint')
f2=$("$a" run "$root/scenarios/quickstart.json" --seed 2 | grep -m1 '^fingerprint')
if [ "$f1" = "$f2" ]; then echo "FAIL: seeds 1 and 2 gave the same fingerprint"; fail=$((fail + 1)); fi
echo "determinism: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
