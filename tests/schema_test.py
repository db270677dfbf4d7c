#!/usr/bin/env python3
"""scenarios/schema.json kept in step with the loader (`byzsim validate`).

1. The schema is a valid JSON Schema (draft 2020-12) and every shipped scenario meets it.
2. Its lists of names are the registries' (`byzsim list --json`): behaviours, mutations per
   protocol, fault types, rule actions, invariants, protocols.
3. Every file of tests/bad_scenarios.txt that the loader refuses, the schema refuses too, at the
   loader's JSON path or above it; except the files of tests/schema_beyond.txt, which need more
   than one value to judge (replica indices below nodes, times before stop.at, ...): the schema
   must accept exactly those, so that list stays true.
4. Both judge the same broken variants of every shipped scenario: an unknown key in each
   object, each value of the wrong type, and each key removed. Where one accepts and the other
   refuses, the variant is reported, unless its path is one of CROSS_FIELD's, each with a reason.

Usage: schema_test.py BYZSIM REPO_ROOT
"""
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import warnings

import jsonschema

BIN, ROOT = sys.argv[1], sys.argv[2]

# Paths (indices as *) where removing a key changes what other values may be: the schema checks
# one value at a time, the loader the file as a whole.
CROSS_FIELD = {
    "/allow_unsafe_f": "f or the Byzantine replicas above floor((n-1)/3) need it",
    "/mapek/anomalies/*/until": "the default end is stop.at, which may come before the start",
}


def pointer(parts):
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def pattern(parts):
    return "".join("/*" if isinstance(p, int) else "/" + p for p in parts)


def schema_errors(validator, doc):
    return [pointer(e.absolute_path) for e in validator.iter_errors(doc)]


def shipped():
    out = []
    for base in ("scenarios", "tests/data"):
        for d, _, files in os.walk(os.path.join(ROOT, base)):
            if os.path.relpath(d, ROOT).startswith("scenarios/schema"):
                continue
            out += [os.path.join(d, f) for f in files if f.endswith(".json") and f != "schema.json"]
    return sorted(out)


def check_names(schema, bad):
    entries = json.loads(subprocess.check_output([BIN, "list", "--json"]))
    defs = schema["$defs"]

    def names(what, scope=None):
        return {e["name"] for e in entries if e["what"] == what and scope in (None, e["scope"])}

    pairs = [
        ("behaviours", set(defs["behavior"]["enum"]), names("behaviour")),
        ("fault types", set(defs["fault"]["properties"]["type"]["enum"]), names("fault")),
        ("invariants", set(defs["expect"]["properties"]["invariant"]["enum"]), names("invariant")),
        ("rule actions", set(defs["randomize"]["properties"]["rules"]["properties"]["actions"]
                             ["items"]["enum"]), names("rule")),
        ("protocols", set(schema["properties"]["protocol"]["oneOf"][0]["enum"]),
         names("protocol") - {"mapek"}),
    ]
    for p in ("pbft", "hotstuff", "rbc", "mapek"):
        pairs.append((p + " mutations", set(defs[p + "Mutation"]["enum"]), names("mutation", p)))
    for what, ours, theirs in pairs:
        if ours != theirs:
            bad.append(f"{what}: schema lacks {sorted(theirs - ours)}, "
                       f"has unknown {sorted(ours - theirs)}")


def check_bad_files(validator, bad):
    beyond = {}
    for line in open(os.path.join(ROOT, "tests/schema_beyond.txt")):
        if line.strip() and not line.startswith("#"):
            doc, why = line.rstrip("\n").split("\t")
            beyond[doc] = why
    seen = set()
    for line in open(os.path.join(ROOT, "tests/bad_scenarios.txt")):
        if line.startswith("#"):
            continue
        path, doc = line.rstrip("\n").split("\t", 1)
        try:
            errors = schema_errors(validator, json.loads(doc))
        except json.JSONDecodeError:
            errors = [""]
        if doc in beyond:
            seen.add(doc)
            if errors:
                bad.append(f"listed in schema_beyond.txt but refused by the schema: {doc}")
        elif not errors:
            bad.append(f"accepted by the schema, refused by the loader at {path}: {doc}")
        elif path != "-" and not any(path == e or path.startswith(e + "/") for e in errors):
            bad.append(f"schema refuses at {errors}, the loader at {path}: {doc}")
    for doc in set(beyond) - seen:
        bad.append(f"schema_beyond.txt names a file not in bad_scenarios.txt: {doc}")
    return len(seen)


def wrong_type(v):
    if isinstance(v, bool):
        return 1
    if isinstance(v, str):
        return True
    if isinstance(v, (int, float)):
        return "x"
    return [] if isinstance(v, dict) else {}


def variants(doc):
    """(pattern, kind, variant) per distinct path pattern of `doc`."""
    out = []

    def at(d, parts):
        for p in parts:
            d = d[p]
        return d

    def walk(v, parts):
        if parts:
            changed = copy.deepcopy(doc)
            parent = at(changed, parts[:-1])
            parent[parts[-1]] = wrong_type(v)
            out.append((pattern(parts), "type", changed))
            if isinstance(parts[-1], str):
                removed = copy.deepcopy(doc)
                del at(removed, parts[:-1])[parts[-1]]
                out.append((pattern(parts), "remove", removed))
        if isinstance(v, dict):
            extra = copy.deepcopy(doc)
            at(extra, parts)["zz_unknown"] = 1
            out.append((pattern(parts), "unknown key", extra))
            for k, x in v.items():
                walk(x, parts + [k])
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, parts + [i])

    walk(doc, [])
    return out


def check_variants(validator, files, bad):
    done = set()
    cases = []
    tmp = tempfile.mkdtemp()
    for f in files:
        for pat, kind, doc in variants(json.load(open(f))):
            key = (pat, kind, json.dumps(doc.get("protocol")), doc.get("system"))
            if key in done:
                continue
            done.add(key)
            name = os.path.join(tmp, f"v{len(cases)}.json")
            with open(name, "w") as out:
                json.dump(doc, out)
            cases.append((name, pat, kind, f, doc))
    run = subprocess.run([BIN, "validate"] + [c[0] for c in cases], capture_output=True,
                         text=True)
    accepted = {line.split(": ")[1] for line in run.stdout.splitlines() if line.startswith("ok: ")}
    disagree = 0
    used = set()
    for name, pat, kind, source, doc in cases:
        loader_ok = name in accepted
        schema_ok = not schema_errors(validator, doc)
        if loader_ok == schema_ok:
            continue
        if kind == "remove" and pat in CROSS_FIELD:
            used.add(pat)
            continue
        disagree += 1
        who = "schema accepts, loader refuses" if schema_ok else "loader accepts, schema refuses"
        bad.append(f"{who}: {kind} at {pat} (from {os.path.relpath(source, ROOT)})")
        if not schema_ok and disagree <= 5:
            bad.append("    schema: " + "; ".join(
                e.message[:160] for e in validator.iter_errors(doc)))
    for pat in set(CROSS_FIELD) - used:
        bad.append(f"CROSS_FIELD names {pat}, where loader and schema agree")
    return len(cases)


def main():
    main_file = os.path.join(ROOT, "scenarios/schema.json")
    parts = [main_file] + sorted(
        os.path.join(ROOT, "scenarios/schema", f) for f in os.listdir(os.path.join(ROOT, "scenarios/schema")))
    store = {}
    for f in parts:
        doc = json.load(open(f))
        jsonschema.Draft202012Validator.check_schema(doc)
        store["file://" + os.path.abspath(f)] = doc
    schema = store["file://" + os.path.abspath(main_file)]
    # RefResolver works with Debian's jsonschema (4.10) and, deprecated, with later ones.
    warnings.simplefilter("ignore", DeprecationWarning)
    resolver = jsonschema.RefResolver("file://" + os.path.abspath(main_file), schema, store=store)
    validator = jsonschema.Draft202012Validator(schema, resolver=resolver)
    schema = {"properties": schema["properties"],
              "$defs": {k: v for doc in store.values() for k, v in doc["$defs"].items()}}
    bad = []
    files = shipped()
    for f in files:
        for e in validator.iter_errors(json.load(open(f))):
            bad.append(f"{os.path.relpath(f, ROOT)}: {pointer(e.absolute_path)}: {e.message[:200]}")
    check_names(schema, bad)
    beyond = check_bad_files(validator, bad)
    cases = check_variants(validator, files, bad)
    for b in bad:
        print("FAIL", b)
    print(f"schema: {len(files)} shipped scenarios, {beyond} bad files beyond one value, "
          f"{cases} variants; {len(bad)} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
