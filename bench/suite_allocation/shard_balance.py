"""Item 5 of issue 17: is redistributing undecided tests across shards worth it?

From an adaptive audit report (its allocation section: runs per test; its tests section: mean
duration per repetition), compares for N shards the wall time (sum of repetition time on the
busiest shard, plus one process start per batch on each shard) of
  contiguous    the test list cut into N contiguous blocks once (file order), each allocating alone;
  round_robin   tests dealt round-robin to the shards once, each shard allocating on its own;
  redistribute  after every batch the undecided tests' repetitions split evenly over the shards
                (the ideal: total work / N, with the same per-batch process starts).
usage: shard_balance.py AUDIT.json [N...] [--start-seconds S]
"""
import json
import sys


def main(path, shard_counts, start_seconds):
    report = json.load(open(path))
    alloc = report["allocation"]
    durations = {}
    for t in report["tests"]:
        mean = (t.get("duration") or {}).get("mean")
        durations[t["name"]] = mean if mean is not None else 0.0
    work = [(t["runs"] * durations.get(t["name"], 0.0), t["runs"]) for t in alloc["tests"]]
    total = sum(w for w, _ in work)
    batches = alloc["batches"]
    rows = []
    for n in shard_counts:
        shards = [0.0] * n
        for i, (w, _) in enumerate(work):
            shards[i % n] += w
        static = max(shards) + batches * start_seconds
        blocks = [0.0] * n
        for i, (w, _) in enumerate(work):
            blocks[i * n // len(work)] += w
        contiguous = max(blocks) + batches * start_seconds
        ideal = total / n + batches * start_seconds
        rows.append({"shards": n, "contiguous_seconds": round(contiguous, 2),
                     "round_robin_seconds": round(static, 2),
                     "redistributed_seconds": round(ideal, 2),
                     "saving_vs_round_robin": round(1 - ideal / static, 3) if static else 0.0,
                     "saving_vs_contiguous": round(1 - ideal / contiguous, 3) if contiguous else 0.0})
    print(json.dumps({"report": path, "tests": len(work), "test_seconds_total": round(total, 2),
                      "batches": batches, "start_seconds": start_seconds, "rows": rows}, indent=1))


if __name__ == "__main__":
    args = sys.argv[1:]
    start = 1.0
    if "--start-seconds" in args:
        k = args.index("--start-seconds")
        start = float(args[k + 1])
        del args[k : k + 2]
    if not args:
        sys.exit(__doc__)
    main(args[0], [int(a) for a in args[1:]] or [2, 4, 8, 16], start)
