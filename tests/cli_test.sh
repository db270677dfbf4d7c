#!/usr/bin/env bash
# The byzsim command line: exit codes, messages and files of each verb.
# Usage: cli_test.sh BYZSIM_BINARY REPO_ROOT
set -euo pipefail

byzsim=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failures=0

# expect_exit WANT NAME CMD...: runs CMD, keeps stdout/stderr in $work/out and $work/err.
expect_exit() {
    local want=$1 name=$2
    shift 2
    local rc=0
    "$@" >"$work/out" 2>"$work/err" || rc=$?
    if [[ $rc -ne $want ]]; then
        echo "FAIL: $name: exit $rc, wanted $want"
        sed 's/^/  stdout: /' "$work/out"
        sed 's/^/  stderr: /' "$work/err"
        failures=$((failures + 1))
        return 0
    fi
    echo "ok: $name"
}

# expect_text FILE TEXT NAME: FILE ($work/out or $work/err) contains TEXT.
expect_text() {
    local file=$1 text=$2 name=$3
    if ! grep -qF -- "$text" "$file"; then
        echo "FAIL: $name: '$text' not in $(basename "$file")"
        sed 's/^/  /' "$file"
        failures=$((failures + 1))
        return 0
    fi
    echo "ok: $name"
}

expect_file() {
    if [[ ! -s $1 ]]; then
        echo "FAIL: $1 missing or empty"
        failures=$((failures + 1))
        return 0
    fi
    echo "ok: $(basename "$1") written"
}

scenario=$work/t.json
cat >"$scenario" <<'EOF'
{"name":"t","nodes":4,"protocol":{"name":"pbft"},"network":{"delay":"1ms"},
 "workload":{"clients":1,"requests":5},"stop":{"at":"10s"}}
EOF

quickstart=$root/scenarios/pbft/quickstart.json
[[ -f $quickstart ]] || quickstart=$scenario
expect_exit 0 "validate accepts $(basename "$quickstart")" "$byzsim" validate "$quickstart"
expect_text "$work/out" "ok: " "validate prints ok"

bad=$work/bad.json
echo '{"name":"t","nodes":4,"network":{"delay":"1ms","bogus":1}}' >"$bad"
expect_exit 2 "validate refuses an unknown key" "$byzsim" validate "$bad"
expect_text "$work/err" "/network/bogus" "the error names the JSON path"
expect_text "$work/err" "$bad" "the error names the file"
expect_exit 2 "run refuses an unknown key" "$byzsim" run "$bad"
expect_exit 2 "a missing scenario file is bad input" "$byzsim" validate "$work/none.json"
expect_exit 2 "validate of several files, one bad" "$byzsim" validate "$scenario" "$bad" "$quickstart"
expect_text "$work/out" "ok: $scenario: t" "validate names each good file"
expect_text "$work/out" "ok: $quickstart: " "validate goes on past a bad file"
expect_text "$work/err" "$bad: /network/bogus" "validate names the bad file and its path"
expect_text "$work/err" "1 of 3 files refused" "validate counts the refused files"

out="$work/reports dir"
expect_exit 0 "run --out --trace succeeds" "$byzsim" run "$scenario" --seed 7 --out "$out" --trace
expect_text "$work/out" "seed 7 scenario $scenario (t)" "run prints seed and scenario first"
expect_text "$work/out" "fingerprint" "run prints the fingerprint"
for f in report.json requests.csv messages.csv trace.jsonl; do expect_file "$out/$f"; done
if compgen -G "$out/*.tmp.*" >/dev/null; then
    echo "FAIL: temporary files left in $out"
    failures=$((failures + 1))
fi

expect_exit 0 "replay of an untouched report" "$byzsim" replay "$out/report.json"
expect_text "$work/out" "replay OK" "replay says OK"

sed 's/"fingerprint": "[0-9a-f]*"/"fingerprint": "0123456789abcdef"/' "$out/report.json" \
    >"$work/tampered.json"
expect_exit 1 "replay of a tampered fingerprint fails" "$byzsim" replay "$work/tampered.json"
expect_text "$work/out" "MISMATCH" "replay says MISMATCH"
expect_text "$work/out" "--trace" "without a trace, replay suggests --trace"

sed 's/"version": "[^"]*"/"version": 5/' "$out/report.json" >"$work/version.json"
expect_exit 2 "replay of a report whose version is not a string" "$byzsim" replay "$work/version.json"
expect_text "$work/err" "/version: expected a string" "the report's bad field is named"
python3 -c 'print("{\"scenario\": " + "[" * 40 + "]" * 40 + "}")' >"$work/deep.json"
expect_exit 2 "replay of a report nested too deep" "$byzsim" replay "$work/deep.json"
expect_text "$work/err" "nested deeper than 32 levels" "the nesting bound is named"

mkdir "$work/changed"
cp "$out/trace.jsonl" "$work/changed/"
sed 's/"clients": 1/"clients": 2/' "$out/report.json" >"$work/changed/report.json"
expect_exit 1 "replay of a changed scenario fails" "$byzsim" replay "$work/changed"
expect_text "$work/out" "first difference at trace line" "replay names the first difference"

expect_exit 0 "run --quiet" "$byzsim" run "$scenario" --quiet
expect_exit 0 "run --max-events" "$byzsim" run "$scenario" --max-events 40
expect_text "$work/out" "events        40" "the run stops at its event budget"
expect_text "$work/out" "stop: event budget" "and says why it stopped"

# A billion requests, and the widest network with a thousand: refused before the run, in under
# a second, with the estimate and the way to raise the budget; raised, the run is cut cleanly.
echo '{"name": "billion", "nodes": 4, "workload": {"requests": 1000000000, "clients": 100},
       "stop": {"at": "1000000s"}}' >"$work/billion.json"
echo '{"name": "wide", "nodes": 1024, "workload": {"requests": 1000}}' >"$work/wide.json"
for f in billion wide; do
    start=$(date +%s%N)
    expect_exit 2 "a $f-request scenario is refused" "$byzsim" run "$work/$f.json"
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    if ((elapsed_ms >= 1000)); then
        echo "FAIL: the $f scenario took ${elapsed_ms} ms to refuse"
        failures=$((failures + 1))
    fi
    expect_text "$work/err" "/workload/requests: the run would need about" "the estimate, at its path"
    expect_text "$work/err" "--max-events N / --max-memory SIZE" "and how to raise the budget"
done
expect_text "$work/err" "n=1024: 1000 requests x 2.1e+06 events each" "the estimate's basis"
expect_exit 0 "validate accepts it" "$byzsim" validate "$work/billion.json"
expect_text "$work/out" "over the default budget: run it with --max-events" "and says it is over budget"
expect_exit 0 "a cut run is not refused" "$byzsim" run "$work/billion.json" --max-events 5000 --out "$work/cut"
expect_text "$work/out" "stop: event budget" "it stops at the cut"
expect_exit 0 "and replays to the same cut" "$byzsim" replay "$work/cut"
expect_exit 2 "memory over the budget" "$byzsim" run "$scenario" --max-memory 1M
expect_text "$work/err" "MiB of memory" "names the memory it would need"
expect_exit 2 "a bad size" "$byzsim" run "$scenario" --max-memory 12Q

# Ctrl-C: run writes the reports of the run so far and exits 130, and replay reproduces them;
# shrink keeps the smallest failing scenario found so far. (A background job's SIGINT is
# ignored by the shell, not by byzsim, which installs its own handler.)
# expect_interrupted NAME SECONDS CMD...: CMD, sent SIGINT after SECONDS, exits 130.
expect_interrupted() {
    local name=$1 after=$2
    shift 2
    "$@" >"$work/out" 2>"$work/err" &
    local pid=$! rc=0
    sleep "$after"
    kill -INT $pid
    wait $pid || rc=$?
    if [[ $rc -eq 130 ]]; then echo "ok: $name"; else
        echo "FAIL: $name: exit $rc, wanted 130"; failures=$((failures + 1)); fi
}
expect_interrupted "Ctrl-C ends run with 130" 1 \
    "$byzsim" run "$work/billion.json" --max-events 0 --max-memory 0 --out "$work/int"
expect_text "$work/out" "stop: interrupted" "the summary says it was interrupted"
expect_text "$work/int/report.json" '"stop_reason": "interrupted"' "the report is written"
expect_exit 0 "an interrupted run replays" "$byzsim" replay "$work/int"
expect_interrupted "Ctrl-C ends shrink with 130" 2 \
    "$byzsim" shrink "$root/scenarios/mutations/pbft-commit_quorum_2f.json" --reseeds 1000000 \
    --max-runs 10000000 --out "$work/int.min.json"
expect_text "$work/out" "kept the smallest failing scenario found so far" "shrink says what it kept"
expect_exit 0 "what it kept still fails as it says" "$byzsim" run "$work/int.min.json" --quiet
expect_exit 2 "--trace without --out is a usage error" "$byzsim" run "$scenario" --trace
expect_exit 2 "a negative seed is a usage error" "$byzsim" run "$scenario" --seed -1
expect_exit 2 "an unknown option is a usage error" "$byzsim" run "$scenario" --bogus
expect_exit 2 "a missing operand is a usage error" "$byzsim" run
expect_exit 0 "--help" "$byzsim" --help
expect_text "$work/out" "replay" "--help lists the verbs"
expect_exit 0 "help run" "$byzsim" help run
expect_exit 0 "run --help" "$byzsim" run --help
expect_text "$work/out" "--seed" "run --help lists its options"
for verb in run replay validate compare sweep merge shrink hunt list; do
    expect_exit 0 "$verb --help works alone" "$byzsim" "$verb" --help
done
expect_exit 0 "--version" "$byzsim" --version
expect_exit 2 "an unknown verb" "$byzsim" frobnicate
expect_text "$work/err" "unknown verb" "the unknown verb is named"
expect_exit 2 "no verb at all" "$byzsim"

# --json: one JSON document on stdout and nothing else, with the verdict; --quiet excludes it.
expect_exit 0 "run --json" "$byzsim" run "$scenario" --json
if python3 - "$work/out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["outcome"] == "safe" and doc["exit_code"] == 0, doc["outcome"]
assert doc["expect"] == {"checked": False, "met": True, "failed": []}, doc["expect"]
assert doc["requests"]["accepted"] == 5 and len(doc["fingerprint"]) == 16
PY
then echo "ok: run --json prints the summary as JSON"; else
    echo "FAIL: run --json"; failures=$((failures + 1)); fi
expect_exit 2 "--quiet with --json is a usage error" "$byzsim" run "$scenario" --json --quiet
expect_exit 2 "a scenario error" "$byzsim" run "$bad"
expect_text "$work/err" "hint: scenarios/FORMAT.md" "a scenario error says where to look next"

# Colour and the progress line only for a person at a terminal (script(1) gives byzsim one).
long=$work/long.json
echo '{"name":"long","nodes":16,"workload":{"clients":8,"requests":25000},"stop":{"at":"1000s"}}' >"$long"
expect_exit 0 "a long run, piped" "$byzsim" run "$long"
if grep -q $'\033' "$work/out" "$work/err" || grep -q "events/s" "$work/err"; then
    echo "FAIL: colour or a progress line on a pipe"; failures=$((failures + 1)); else
    echo "ok: no colour and no progress line on a pipe"; fi
script -qec "$byzsim run $long" /dev/null >"$work/tty" 2>&1 || true
expect_text "$work/tty" "events/s" "a long run on a terminal shows its progress"
expect_text "$work/tty" $'\033[32mSAFE' "the outcome is coloured on a terminal"
NO_COLOR=1 script -qec "$byzsim run $scenario" /dev/null >"$work/tty" 2>&1 || true
if grep -q $'\033\[3' "$work/tty"; then
    echo "FAIL: colour with NO_COLOR set"; failures=$((failures + 1)); else
    echo "ok: NO_COLOR turns colour off"; fi

# sweep --json: the summary as JSON, which sweep.csv bears out.
expect_exit 1 "sweep --json of a sweep with failures" "$byzsim" sweep \
    "$root/tests/data/sweep_unsafe.json" --seeds 1..12 --jobs 2 --out "$work/sweep" --json
if python3 - "$work/out" "$work/sweep/sweep.csv" <<'PY'
import csv, json, sys
doc = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2])))
failing = sorted(int(r["seed"]) for r in rows if r["outcome"] != "safe")
assert doc["seeds_done"] == len(rows) == 12, (doc["seeds_done"], len(rows))
assert doc["failures"] == len(failing) > 0 and doc["first_failure"] == failing[0], doc
assert doc["exit_code"] == 1
PY
then echo "ok: sweep --json agrees with sweep.csv"; else
    echo "FAIL: sweep --json"; failures=$((failures + 1)); fi

expect_exit 1 "sweep --quiet" "$byzsim" sweep "$root/tests/data/sweep_unsafe.json" --seeds 1..12 \
    --jobs 2 --out "$work/sweep-quiet" --quiet
if head -1 "$work/out" | grep -q '^12 seeds done' && [[ ! -s $work/err ]]; then
    echo "ok: sweep --quiet prints only its summary"; else
    echo "FAIL: sweep --quiet printed more"; failures=$((failures + 1)); fi

if [[ $failures -ne 0 ]]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all CLI checks passed"
