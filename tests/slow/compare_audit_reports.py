"""Exit 0 when two audit reports hold the same statistics (a merge of shards against one run of the
same seeds): per test and setting the counts, outcomes, rates, intervals, classification, retries,
failing runs and timeline. Wall-clock fields (durations, timestamps, argv) are left out."""
import json
import sys

KEYS = ("name", "setting", "runs", "failures", "outcomes", "failure_rate", "classification",
        "retries", "failing_runs", "timeline")


def digest(path):
    with open(path) as f:
        report = json.load(f)
    entries = lambda section: [{k: t.get(k) for k in KEYS} for t in report.get(section, [])]
    return {"runs": report.get("runs"), "summary": report.get("summary"),
            "tests": entries("tests"), "process": entries("process")}


def main(a, b):
    da, db = digest(a), digest(b)
    if da == db:
        print(f"same statistics: {len(da['tests'])} tests, {da['runs']} runs")
        return 0
    for section in ("runs", "summary", "tests", "process"):
        if da[section] != db[section]:
            print(f"{section} differ:\n  {a}: {json.dumps(da[section])[:2000]}\n"
                  f"  {b}: {json.dumps(db[section])[:2000]}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
