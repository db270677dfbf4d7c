#!/usr/bin/env bash
# `byzsim list` against the registries it must name, checked two ways: against FORMAT.md (the
# fault types, the mutation table, the invariants `expect` accepts), written apart from the
# code; and against the loader: every behaviour and mutation it lists is accepted in a scenario
# (a behaviour's own parameters may be missing, but never its name), and a made-up one is not.
# Usage: list_test.sh BYZSIM REPO_ROOT
set -euo pipefail
bin="$1"
root="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" list --json >"$tmp/list.json"
"$bin" list >"$tmp/list.txt"
"$bin" list --only mutation >"$tmp/mutations.txt"
if "$bin" list --only nonsense >/dev/null 2>&1; then
    echo "FAIL: --only nonsense accepted"
    exit 1
fi

python3 - "$bin" "$root" "$tmp" <<'EOF'
import json, re, subprocess, sys
bin, root, tmp = sys.argv[1:4]
entries = json.load(open(tmp + "/list.json"))
text = open(tmp + "/list.txt").read().splitlines()
fmt = open(root + "/scenarios/FORMAT.md").read()
bad = []
if len(text) != len(entries):
    bad.append(f"{len(text)} lines of text for {len(entries)} JSON entries")
if len(open(tmp + "/mutations.txt").read().splitlines()) != sum(e["what"] == "mutation" for e in entries):
    bad.append("--only mutation does not print exactly the mutations")

def listed(what, scope=None):
    return sorted(e["name"] for e in entries if e["what"] == what and (scope is None or e["scope"] == scope))

# Fault types: FORMAT.md's table under "## `faults`".
faults_doc = fmt[fmt.index("## `faults`"):]
faults_doc = faults_doc[:faults_doc.index("\n\n", faults_doc.index("| `type` |"))]
documented = sorted(set(re.findall(r"^\| `([a-z_]+)` \|", faults_doc, re.M)) - {"type"})
if listed("fault") != documented:
    bad.append(f"fault types {listed('fault')} != FORMAT.md {documented}")
# Mutations: FORMAT.md's table of seeded bugs, one row per protocol and name.
for proto in ("pbft", "hotstuff", "rbc", "mapek"):
    documented = sorted(re.findall(rf"^\| {proto} \| `([a-z_0-9]+)` \|", fmt, re.M))
    if listed("mutation", proto) != documented:
        bad.append(f"{proto} mutations {listed('mutation', proto)} != FORMAT.md {documented}")
# Invariants: the values FORMAT.md gives for /expect/invariant.
line = next(l for l in fmt.splitlines() if l.startswith("| `invariant` |"))
documented = sorted(set(re.findall(r"`([a-z_]+)`", line)) - {"invariant"})
if listed("invariant") != documented:
    bad.append(f"invariants {listed('invariant')} != FORMAT.md {documented}")

def validate(doc):
    path = tmp + "/s.json"
    json.dump(doc, open(path, "w"))
    p = subprocess.run([bin, "validate", path], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr

def base(proto, mapek=False):
    doc = {"name": "list", "nodes": 4, "protocol": {"name": proto},
           "network": {"delay": "1ms"}, "stop": {"at": "1s"}}
    if mapek:
        doc["system"] = "mapek"
        doc["mapek"] = {"consensus": "pbft", "workflows": [{"name": "w", "latency": 100}],
                        "actions": [{"name": "scale_out", "metric": "latency", "threshold": 200, "delay": "100ms"}]}
    else:
        doc["workload"] = {"clients": 1, "requests": 1}
    return doc

for scope in ("pbft", "hotstuff", "rbc", "mapek"):
    for name in listed("behaviour", scope) + ["no_such_behaviour"]:
        doc = base("pbft" if scope == "mapek" else scope, scope == "mapek")
        doc["faults"] = [{"type": "byzantine", "node": 1, "behavior": name}]
        rc, out = validate(doc)
        refused_name = "unknown" in out and name in out
        if name == "no_such_behaviour":
            if rc == 0 or not refused_name:
                bad.append(f"{scope}: a made-up behaviour was not refused by name: {out.strip()}")
        elif refused_name:
            bad.append(f"{scope} behaviour {name} is listed but refused: {out.strip()}")
    for name in listed("mutation", scope) + ["no_such_mutation"]:
        doc = base("pbft" if scope == "mapek" else scope, scope == "mapek")
        doc["protocol"]["mutations"] = [name]
        rc, out = validate(doc)
        if (rc == 0) == (name == "no_such_mutation"):
            bad.append(f"{scope} mutation {name}: validate exited {rc}: {out.strip()}")
for b in bad:
    print("FAIL", b)
print("list test:", "passed" if not bad else f"{len(bad)} problem(s)",
      f"({len(entries)} entries)")
sys.exit(1 if bad else 0)
EOF
