#!/usr/bin/env bash
# Every bad scenario in bad_scenarios.txt must be refused by `validate` and by `run` with exit
# code 2 and a message naming its JSON path; never a crash.
# Usage: bad_scenarios_test.sh BYZSIM CASES_FILE
set -uo pipefail
bin="$1"
cases="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
while IFS=$'\t' read -r path doc; do
    [[ "$path" == \#* ]] && continue
    printf '%s\n' "$doc" >"$tmp/bad.json"
    for verb in validate run; do
        err=$("$bin" "$verb" "$tmp/bad.json" 2>&1 >/dev/null)
        rc=$?
        if [ "$rc" -ne 2 ]; then
            echo "FAIL $verb '$doc': exit $rc"; fail=$((fail + 1)); continue
        fi
        if [ "$path" != "-" ] && ! grep -qF ": $path: " <<<"$err"; then
            echo "FAIL $verb '$doc': message does not name $path: $err"; fail=$((fail + 1)); continue
        fi
        pass=$((pass + 1))
    done
done <"$cases"
echo "bad scenarios: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
