#!/usr/bin/env bash
# Runs every shipped scenario through the CLI: each must meet its own `expect` block (exit 0),
# and a second run of the same scenario must print the same fingerprint. Sweep specifications
# (a `randomize` section, no `expect`: scenarios/sweeps/) are run by the sweep
# and hunt tests, not here; scenarios/schema.json and scenarios/schema/ describe the format.
# Usage: scenarios_test.sh BYZSIM REPO_ROOT
set -euo pipefail
bin="$1"
root="$2"
pass=0
fail=0
while IFS= read -r f; do
    grep -q '"randomize"' "$f" && continue
    if ! grep -q '"expect"' "$f"; then
        echo "FAIL $f: no expect block"
        fail=$((fail + 1))
        continue
    fi
    out1=$("$bin" run "$f" 2>&1) && rc=0 || rc=$?
    # A run that crashed prints no fingerprint: `|| true` keeps set -e from ending the loop
    # there, so the scenario is named below and the others still run.
    fp1=$(grep -m1 '^fingerprint' <<<"$out1" | awk '{print $2}') || true
    # awk reads to the end: `grep -m1` could exit while byzsim still wrote, and the SIGPIPE
    # failed the pipeline, which (pipefail, set -e) ended the whole test without a message.
    fp2=$("$bin" run "$f" 2>&1 | awk '/^fingerprint/ && !seen {print $2; seen = 1}') || true
    if [ "$rc" -ne 0 ]; then
        echo "FAIL $f: exit $rc"
        grep -E 'outcome|expect|violation|invariant|error' <<<"$out1" | sed 's/^/    /'
        fail=$((fail + 1))
    elif [ -z "$fp1" ] || [ "$fp1" != "$fp2" ]; then
        echo "FAIL $f: fingerprint '$fp1' then '$fp2'"
        fail=$((fail + 1))
    else
        echo "ok   $f ($fp1)"
        pass=$((pass + 1))
    fi
done < <(find "$root/scenarios" -name '*.json' -not -name schema.json \
    -not -path "$root/scenarios/schema/*" -print | sort)
[ "$pass" -ge 12 ] || { echo "expected at least 12 scenarios, found $pass passing"; fail=$((fail + 1)); }
echo "scenarios: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
