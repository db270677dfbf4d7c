#!/usr/bin/env python3
"""Every protocol parameter refuses values of the wrong kind, at its own path, with exit 2.

The parameters and their kinds come from scenarios/schema/protocols.json (kept in step with the
loader by schema_test.py). For each parameter of each protocol, as `/protocol/<name>` and as a
replica's own override (`/faults/0/params/<name>`, a "params" fault), it writes hostile values
of its kind: floats, negatives, strings, booleans and null for integers; bare numbers,
negative, unit-less and zero durations; numbers and unknown words for choices; replica lists
naming no replica. `byzsim validate` must refuse every file (exit 2) and name the parameter's
path, and must accept the scenario with no bad value, and each bounded integer parameter at its
least and its greatest value (with COMPANIONS, where the format ties it to another parameter).

Usage: param_types_test.py BYZSIM REPO_ROOT
"""
import json
import os
import subprocess
import sys
import tempfile

BIN, ROOT = sys.argv[1], sys.argv[2]
NODES = 4


def protocol_params():
    with open(os.path.join(ROOT, "scenarios", "schema", "protocols.json")) as f:
        schema = json.load(f)
    out = {}
    for branch in schema["$defs"]["protocolObject"]["allOf"]:
        name = branch["if"]["properties"]["name"]["const"]
        props = branch["then"]["properties"]
        out[name] = {k: v for k, v in props.items() if isinstance(v, dict) and k != "mutations"}
    return out


# Parameters the format ties to another, and the other's value that lets the least one through.
COMPANIONS = {
    "watermark_window": {"checkpoint_interval": 1},  # at least checkpoint_interval
}


def bound_cases():
    """(doc, what): every bounded integer parameter at its schema minimum and maximum."""
    for proto, params in sorted(protocol_params().items()):
        for param, spec in sorted(params.items()):
            for side in ("minimum", "maximum"):
                if spec.get("type") != "integer" or side not in spec:
                    continue
                obj = {"name": proto, param: spec[side], **COMPANIONS.get(param, {})}
                yield ({"name": "t", "nodes": NODES, "protocol": obj},
                       f"{proto} {param} at its {side} {spec[side]}")


def bad_values(spec):
    """Hostile values for a parameter described by its schema entry."""
    ref = spec.get("$ref", "")
    if spec.get("type") == "integer":
        values = [1.5, -1, "7", True, None, [], {}]
        if "maximum" in spec:
            values.append(spec["maximum"] + 1)
        if "minimum" in spec:
            values.append(spec["minimum"] - 1)
        return values
    if spec.get("type") == "boolean":
        return ["yes", 1, None, 0.5]
    if ref.endswith("positiveDuration"):
        return [5, "-1s", "5", "fast", True, "0s", "NaNs", None]
    if ref.endswith("duration"):
        return [5, "-1s", "5", "fast", True, "NaNs", None, "1000001s"]
    if "enum" in spec:
        return [5, "nonsense", None, True, spec["enum"][0].upper()]
    if spec.get("type") == "array":
        return ["0", [NODES], [-1], [1.5], ["0"], 3]
    raise SystemExit(f"param_types_test: no bad values for {spec}")


def cases():
    for proto, params in sorted(protocol_params().items()):
        for param, spec in sorted(params.items()):
            for value in bad_values(spec):
                top = {"name": "t", "nodes": NODES, "protocol": {"name": proto, param: value}}
                yield top, f"/protocol/{param}"
                own = {"name": "t", "nodes": NODES, "protocol": proto,
                       "faults": [{"type": "params", "node": 1, "params": {param: value}}]}
                yield own, f"/faults/0/params/{param}"


def main():
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, (doc, path) in enumerate(cases()):
            name = os.path.join(tmp, f"p{i}.json")
            with open(name, "w") as f:
                json.dump(doc, f)
            files.append((name, path, doc))
        for proto in protocol_params():
            good = os.path.join(tmp, f"good-{proto}.json")
            with open(good, "w") as f:
                json.dump({"name": "t", "nodes": NODES, "protocol": proto}, f)
            if subprocess.run([BIN, "validate", good], capture_output=True).returncode != 0:
                print(f"FAIL: {proto} with no parameter is refused")
                failures += 1
        for i, (doc, what) in enumerate(bound_cases()):
            good = os.path.join(tmp, f"bound{i}.json")
            with open(good, "w") as f:
                json.dump(doc, f)
            run = subprocess.run([BIN, "validate", good], capture_output=True, text=True)
            if run.returncode != 0:
                print(f"FAIL: {what} is refused: {run.stderr.strip()}")
                failures += 1
        for name, path, doc in files:
            run = subprocess.run([BIN, "validate", name], capture_output=True, text=True)
            where = f"{name}: {path}"
            if run.returncode != 2 or where not in run.stderr:
                print(f"FAIL: {json.dumps(doc)}: exit {run.returncode}, wanted 2 at {path}")
                print("  " + (run.stderr.strip() or run.stdout.strip()))
                failures += 1
    total = len(files)
    if failures:
        print(f"{failures} of {total} bad parameter values were not refused at their path")
        return 1
    print(f"param types: {total} bad values of {sum(map(len, protocol_params().values()))} "
          f"parameters refused at their paths; {len(list(bound_cases()))} values at bounds accepted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
