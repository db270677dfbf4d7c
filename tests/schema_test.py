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
5. Bounds: every number of every shipped scenario, moved to its schema minimum and maximum, is
   accepted by both; moved one step beyond (1 for integers, a millionth for other numbers), it
   is refused by both. Arrays likewise at their maxItems and one more (copies of the first
   item). Where a value at a bound breaks a rule between two values, BOUND_CROSS_FIELD says why.

Usage: schema_test.py BYZSIM REPO_ROOT [--bounds]   (--bounds: check 5 alone, else 1 to 4)
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
BOUNDS = sys.argv[3:] == ["--bounds"]

# Paths (indices as *) where removing a key changes what other values may be: the schema checks
# one value at a time, the loader the file as a whole.
CROSS_FIELD = {
    "/allow_unsafe_f": "f or the Byzantine replicas above floor((n-1)/3) need it",
    "/mapek/anomalies/*/until": "the default end is stop.at, which may come before the start",
}


# Paths where a value at its own bound can break a rule that ties it to another value.
BOUND_CROSS_FIELD = {
    "/nodes": "the schema's least n is any protocol's; HotStuff needs 2, Byzantine faults 4",
    "/faults/*/params/victim": "the victim must be another replica than the forger",
    "/network/links/*/to": "a link joins two different replicas",
    "/workload/schedule/*/client": "a client index is below workload.clients",
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


BOUND_WORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "maxItems")


def flat_errors(errors):
    for e in errors:
        yield e
        yield from flat_errors(e.context or [])


def schema_bound(validator, doc, parts, names, items=False):
    """The bound (one of `names`) the schema sets at `parts` (on its items if `items`), read
    from the subschemas that refuse a value of the wrong type there; None if there is none or
    if branches of the schema disagree on it."""
    at = copy.deepcopy(doc)
    parent = at
    for p in parts[:-1]:
        parent = parent[p]
    parent[parts[-1]] = {"": None}
    found = set()
    for e in flat_errors(validator.iter_errors(at)):
        if list(e.absolute_path) != parts or e.validator != "type":
            continue
        sub = e.schema.get("items", {}) if items else e.schema
        found |= {(k, sub[k], sub.get("description", "")) for k in names if k in sub}
    if len(found) != 1:
        return None
    kind, value, description = found.pop()
    if "below nodes" in description and kind == "maximum" and isinstance(doc.get("nodes"), int):
        return "index maximum (nodes - 1)", doc["nodes"] - 1  # the schema cannot say n - 1
    return kind, value


def bound_cases(validator, doc, done):
    """(pattern, what, variant, must_accept) at the bounds of each number and bounded array of
    `doc` whose (pattern, protocol, system) is not in `done`. A two-number range moves as one."""
    out = []
    proto = doc.get("protocol")
    scope = (proto.get("name") if isinstance(proto, dict) else proto, doc.get("system"))

    def put(parts, value, what, accept):
        changed = copy.deepcopy(doc)
        parent = changed
        for p in parts[:-1]:
            parent = parent[p]
        parent[parts[-1]] = value
        out.append((pattern(parts), pointer(parts), what, changed, accept))

    def number(v, parts, as_range):
        integral = isinstance(v, int)
        for names, side in ((("maximum", "exclusiveMaximum"), 1),
                            (("minimum", "exclusiveMinimum"), -1)):
            found = schema_bound(validator, doc, parts, names, items=as_range)
            if not found:
                continue
            kind, b = found
            step = 1 if integral else 1e-6 * max(1.0, abs(b))
            b = int(b) if integral and float(b).is_integer() else b
            wrap = (lambda x: [x, x]) if as_range else (lambda x: x)
            exclusive = kind.startswith("exclusive")
            put(parts, wrap(b), f"{kind} {b}", not exclusive)
            put(parts, wrap(b + side * step), f"beyond {kind} {b}", False)
            if exclusive:
                put(parts, wrap(b - side * step), f"inside {kind} {b}", True)

    def array(v, parts):
        found = schema_bound(validator, doc, parts, ("maxItems",))
        if found and found[1] > len(v):
            put(parts, v + [v[0]] * (found[1] - len(v)), f"maxItems {found[1]}", True)
            put(parts, v + [v[0]] * (found[1] + 1 - len(v)), f"beyond maxItems {found[1]}", False)

    def fresh(parts, tag):
        key = (pattern(parts), tag, scope)
        if key in done:
            return False
        done.add(key)
        return True

    def walk(v, parts):
        is_number = isinstance(v, (int, float)) and not isinstance(v, bool)
        if is_number and parts and fresh(parts, "number"):
            number(v, parts, False)
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(x, parts + [k])
        elif isinstance(v, list) and v and parts:
            is_range = len(v) == 2 and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in v) and \
                schema_bound(validator, doc, parts, ("maxItems",)) == ("maxItems", 2)
            if is_range and fresh(parts, "range"):
                number(v[0], parts, True)
            if fresh(parts, "array"):
                array(v, parts)
            if not is_range:
                for i, x in enumerate(v):
                    walk(x, parts + [i])

    walk(doc, [])
    return out


def check_bounds(validator, files, bad):
    done, cases = set(), []
    tmp = tempfile.mkdtemp()
    for f in files:
        for pat, where, what, variant, accept in bound_cases(validator, json.load(open(f)), done):
            name = os.path.join(tmp, f"b{len(cases)}.json")
            with open(name, "w") as out:
                json.dump(variant, out)
            cases.append((name, pat, where, what, f, variant, accept))
    run = subprocess.run([BIN, "validate"] + [c[0] for c in cases], capture_output=True,
                         text=True)
    accepted = {line.split(": ")[1] for line in run.stdout.splitlines() if line.startswith("ok: ")}
    refused_at = {m.group(1): m.group(2) for m in
                  re.finditer(r"^error: (\S+): (\S+): ", run.stderr, re.M)}
    used = set()
    for name, pat, changed, what, source, doc, accept in cases:
        loader_ok = name in accepted
        schema_ok = next(validator.iter_errors(doc), None) is None
        where = refused_at.get(name, "")
        if accept and not loader_ok and (where != changed or not (schema_ok or any(
                e.validator in BOUND_WORDS and pointer(e.absolute_path) == changed
                for e in flat_errors(validator.iter_errors(doc))))):
            continue  # refused for another rule the moved value breaks (order, uniqueness, ...)
        if accept and schema_ok and not loader_ok:
            if pat in BOUND_CROSS_FIELD:
                used.add(pat)
                continue
        elif loader_ok == accept and (schema_ok == accept or "(nodes - 1)" in what):
            continue
        bad.append(f"{what} at {pat} (from {os.path.relpath(source, ROOT)}): loader "
                   f"{'accepts' if loader_ok else 'refuses at ' + where}, schema "
                   f"{'accepts' if schema_ok else 'refuses'}, the format says "
                   f"{'accept' if accept else 'refuse'}")
    for pat in set(BOUND_CROSS_FIELD) - used:
        bad.append(f"BOUND_CROSS_FIELD names {pat}, where the bound is accepted")
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
    if BOUNDS:
        bounds = check_bounds(validator, files, bad)
        for b in bad:
            print("FAIL", b)
        print(f"schema bounds: {bounds} values at and beyond bounds; {len(bad)} problems")
        return 1 if bad else 0
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
