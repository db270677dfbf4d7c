#!/usr/bin/env bash
# Opens report.html in a real browser (Debian's Chromium, headless; installed here when missing
# and run as root, as CI does) for a safe run, a run stopped by a violation, a long run drawn
# through --window and a MAPE-K run. For each: the page logs no error, its diagram has one lane
# per node (report.json's node count) and one arrow per message whose event falls in the
# window (counted from trace.jsonl, independently of the page). Screenshots go to out/ for
# people to look at.
# Usage: html_report_test.sh BYZSIM REPO_ROOT
set -euo pipefail
bin="$1"
root="$2"

chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
        chromium=$(command -v chromium)
    else
        echo "html report test: no Chromium, and not root to install it (apt-get install chromium)"
        exit 1
    fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
shots="$root/out/screenshots"
mkdir -p "$shots"
browser=("$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage
    --user-data-dir="$tmp/profile" --virtual-time-budget=3000)
fail=0

check() {
    local name="$1" scenario="$2"
    shift 2
    local dir="$tmp/$name"
    "$bin" run "$scenario" --out "$dir" --trace -q "$@" >"$tmp/$name.run" 2>&1 || true
    if [ ! -f "$dir/report.html" ]; then
        echo "FAIL $name: no report.html"; cat "$tmp/$name.run"; fail=1; return
    fi
    "${browser[@]}" --enable-logging=stderr --v=0 --dump-dom "file://$dir/report.html" \
        >"$tmp/$name.dom" 2>"$tmp/$name.log" || true
    "${browser[@]}" --hide-scrollbars --window-size=1400,2400 \
        --screenshot="$shots/$name.png" "file://$dir/report.html" >/dev/null 2>&1 || true
    if ! python3 - "$dir" "$tmp/$name.dom" "$tmp/$name.log" "$name" <<'EOF'; then fail=1; fi
import json, re, sys
out, dom_file, log_file, name = sys.argv[1:5]
dom = open(dom_file, encoding="utf-8").read()
log = open(log_file, encoding="utf-8", errors="replace").read()
report = json.load(open(out + "/report.json"))
problems = []
m = re.search(r'id="selfcheck">lanes=(\d+) arrows=(\d+) errors=(\d+)<', dom)
if not m:
    problems.append("the page's check did not run (no lanes=... in the DOM)")
else:
    lanes, arrows, errors = map(int, m.groups())
    w = re.search(r'data-window-start="(\d+)" data-window-end="(\d+)"', dom)
    start, end = int(w.group(1)), int(w.group(2))
    expected = 0
    for line in open(out + "/trace.jsonl"):
        r = json.loads(line)
        if r.get("kind") in ("deliver", "drop", "rule-drop", "hold") and start <= r["t"] <= end:
            expected += 1
    nodes = len(report["messages"]["by_node"])  # replicas and clients
    if lanes != nodes:
        problems.append(f"{lanes} lanes for {nodes} nodes")
    if arrows != expected:
        problems.append(f"{arrows} arrows, {expected} messages in the window {start}..{end}")
    if errors:
        problems.append(f"{errors} script errors")
    if arrows == 0:
        problems.append("an empty diagram")
for line in log.splitlines():
    if "Uncaught" in line or ("CONSOLE" in line and "error" in line.lower()):
        problems.append("browser log: " + line.strip())
if report["outcome"] != "safe" and "violated</b>" not in dom:
    problems.append("a violation, not shown at the top")
print(("FAIL " if problems else "ok   ") + name + (": " + "; ".join(problems) if problems else
      f" ({m.group(0)[15:-1]})"))
sys.exit(1 if problems else 0)
EOF
}

check pbft-safe "$root/scenarios/pbft/fault_free.json"
check pbft-violation "$root/scenarios/mutations/pbft-commit_quorum_2f.json"
check hotstuff-window "$root/scenarios/hotstuff/chained_fault_free.json" --window 20ms..60ms
check mapek "$root/scenarios/mapek/latency_spike.json"
echo "screenshots in $shots"
exit "$fail"
