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

mkdir "$work/changed"
cp "$out/trace.jsonl" "$work/changed/"
sed 's/"clients": 1/"clients": 2/' "$out/report.json" >"$work/changed/report.json"
expect_exit 1 "replay of a changed scenario fails" "$byzsim" replay "$work/changed"
expect_text "$work/out" "first difference at trace line" "replay names the first difference"

expect_exit 0 "run --quiet" "$byzsim" run "$scenario" --quiet
expect_exit 2 "--trace without --out is a usage error" "$byzsim" run "$scenario" --trace
expect_exit 2 "a negative seed is a usage error" "$byzsim" run "$scenario" --seed -1
expect_exit 2 "an unknown option is a usage error" "$byzsim" run "$scenario" --bogus
expect_exit 2 "a missing operand is a usage error" "$byzsim" run
expect_exit 0 "--help" "$byzsim" --help
expect_text "$work/out" "replay" "--help lists the verbs"
expect_exit 0 "help run" "$byzsim" help run
expect_exit 0 "run --help" "$byzsim" run --help
expect_text "$work/out" "--seed" "run --help lists its options"
expect_exit 0 "--version" "$byzsim" --version
expect_exit 2 "an unknown verb" "$byzsim" frobnicate
expect_text "$work/err" "unknown verb" "the unknown verb is named"
expect_exit 2 "no verb at all" "$byzsim"

if [[ $failures -ne 0 ]]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all CLI checks passed"
