"""One benchmark line: executions, wall time and flaky sets of the adaptive audit and flakefinder.

usage: compare.py NAME AUDIT.json FLAKEFINDER.xml AUDIT_SECONDS FLAKEFINDER_SECONDS [EXPECTED.json]
"""
import collections
import json
import sys
import xml.etree.ElementTree as ET


def flakefinder_counts(xml_path):
    """Per test (path::name, as pytest's node id): [runs, failures] from flakefinder's JUnit XML."""
    counts = collections.defaultdict(lambda: [0, 0])
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        if case.find("skipped") is not None:
            continue
        classname = case.get("classname", "")
        name = case.get("name", "").split("[")[0]
        key = classname + "::" + name
        counts[key][0] += 1
        if case.find("failure") is not None or case.find("error") is not None:
            counts[key][1] += 1
    return counts


def node_key(nodeid):
    """classname::name as in JUnit XML for a node id (path/to/test_x.py::test_y)."""
    path, _, rest = nodeid.partition("::")
    return path[:-3].replace("/", ".") + "::" + rest.split("[")[0]


def main(name, audit_json, ff_xml, audit_s, ff_s, expected_json=""):
    report = json.load(open(audit_json))
    alloc = report["allocation"]
    ours = {node_key(t["test"]) for t in alloc["tests"] if t["verdict"] == "flaky"}
    ff = flakefinder_counts(ff_xml)
    theirs = {k for k, (runs, fails) in ff.items() if 0 < fails < runs}
    ff_exec = sum(runs for runs, _ in ff.values())
    line = {
        "suite": name,
        "tests": len(alloc["tests"]),
        "audit_executions": alloc["executions"],
        "flakefinder_executions": ff_exec,
        "execution_ratio": round(alloc["executions"] / ff_exec, 4) if ff_exec else None,
        "audit_seconds": round(float(audit_s), 2),
        "flakefinder_seconds": round(float(ff_s), 2),
        "wall_ratio": round(float(audit_s) / float(ff_s), 3),
        "evidence": alloc["evidence"],
        "flaky_found_by_audit": sorted(ours),
        "flaky_found_by_flakefinder": sorted(theirs),
        "same_flaky_set": ours == theirs,
    }
    if expected_json:
        expected = json.load(open(expected_json))
        must = {node_key(k) for k, rate in expected["flaky"].items() if rate >= 0.02}
        line["missed_flaky_rate_ge_2pct_audit"] = sorted(must - ours)
        line["missed_flaky_rate_ge_2pct_flakefinder"] = sorted(must - theirs)
    print(json.dumps(line))


if __name__ == "__main__":
    main(*sys.argv[1:])
