#!/usr/bin/env bash
# Each lie of a MAPE-K agent, alone on a drawn node, over 1,000 seeds of the MAPE-K sweep (drawn
# anomalies, crashes, partitions, loss, GST), on PBFT and on chained HotStuff: no violation,
# which means no false action, no unjustified one, no aggregate outside the honest readings, no
# anomaly left unanswered past the bound, no honest node marked, and honest replicas agreeing
# on every knowledge-base state. Usage: mapek_lies_test.sh BYZSIM SOURCE_ROOT
set -uo pipefail
byzsim="$1"
root="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for consensus in ${MAPEK_CONSENSUS:-pbft hotstuff}; do
    for lie in inflate deflate fake_anomaly hide_anomaly equivocate_readings replay_evidence \
               delay_readings unjustified_plan; do
        python3 - "$root/scenarios/sweeps/mapek.json" "$tmp/$lie.json" "$lie" "$consensus" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
lie, consensus = sys.argv[3], sys.argv[4]
doc["name"] = f"mapek-{consensus}-{lie}"
doc["mapek"]["consensus"] = consensus
if consensus == "hotstuff":
    # A Byzantine leader in every fourth view breaks chained HotStuff's runs of three
    # consecutive certified views, and view timers back off to 8x: the loop's bound is sized
    # for that, and anomalies last long enough to be held to it.
    doc["protocol"] = {"name": "hotstuff", "view_timeout": "300ms"}
    doc["mapek"]["liveness_bound"] = "10s"
    doc["stop"]["at"] = "24s"
    doc["randomize"]["anomalies"]["duration"] = ["1s", "14s"]
doc["randomize"]["byzantine"] = {"count": 1, "behaviors": [lie]}
json.dump(doc, open(sys.argv[2], "w"))
PY
        out="$tmp/$consensus-$lie"
        "$byzsim" sweep "$tmp/$lie.json" --seeds 1..1000 --jobs 2 --out "$out" --no-progress \
            >"$out.log" 2>&1
        rc=$?
        safe=$(grep -c ',safe,' "$out/sweep.csv")
        echo "$consensus $lie: $safe of 1000 seeds safe (exit $rc)"
        if [ "$rc" -ne 0 ] || [ "$safe" -ne 1000 ]; then
            grep -v ',safe,' "$out/sweep.csv" | head -4
            fail=$((fail + 1))
        fi
    done
done
echo "mapek lies: $fail failing"
[ "$fail" -eq 0 ]
