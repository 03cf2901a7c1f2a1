"""`pytest -p flakescope_pytest --flakescope-runs N`: flakescope's report from inside the user's
own pytest run.

The repetitions' outcome lines become a flakescope run log (the format `flakescope audit --log`
writes, one record per repetition), and `flakescope merge LOG --out REPORT` turns it into the
report `flakescope audit --isolation inprocess` writes, whose terminal summary is printed at the
end of pytest's. The flakescope binary is found through FLAKESCOPE_BIN, PATH, or the build folder of
the source tree this plugin belongs to; without one the run log is kept and the command that
renders it is printed.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

_RUNLOG_SCHEMA = "flakescope.runlog/1"
# flakescope's names; a non-strict xpass counts as a pass there (see flakescope_outcomes).
_OUTCOME = {"xpass": "pass"}
_FAILURES = ("fail", "error", "crash", "timeout")


class RunsReport:
    def __init__(self, config, options):
        self.config = config
        self.runs = options["runs"]
        self.seed = options["seed"]
        self.setting = options["setting"]
        self.out = os.path.abspath(options["out"] or "flakescope-audit.json")
        self.folder = tempfile.mkdtemp(prefix="flakescope-runs-")
        self.outcomes_path = os.path.join(self.folder, "outcomes.jsonl")

    def finish(self, terminalreporter):
        lines = _read_lines(self.outcomes_path)
        log_path = self.out + ".runlog.jsonl"
        if os.path.exists(log_path):
            # Never replace a file this run did not create: keep the log in the scratch folder.
            log_path = os.path.join(self.folder, "runlog.jsonl")
        with open(log_path, "x") as f:
            f.write(json.dumps(self._header()) + "\n")
            for record in self._records(lines):
                f.write(json.dumps(record) + "\n")
        write = terminalreporter.write_line
        terminalreporter.section("flakescope: %d run(s) per test, seed %d, setting %s"
                                 % (self.runs, self.seed, self.setting))
        binary = _flakescope_binary()
        if binary is None:
            write("flakescope binary not found (set FLAKESCOPE_BIN); the run log is %s, render it "
                  "with: flakescope merge %s --out %s" % (log_path, log_path, self.out))
            return
        done = subprocess.run([binary, "merge", log_path, "--out", self.out],
                              capture_output=True, text=True)
        for text in (done.stdout.rstrip("\n"), done.stderr.rstrip("\n")):
            for line in text.splitlines():
                write(line)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _header(self):
        command = [sys.executable, "-m", "pytest"] + list(self.config.invocation_params.args)
        config = {"runs": self.runs, "max_runs": self.runs, "jobs": 1, "isolation": "inprocess",
                  "timeout_seconds": 0, "junit": "none", "junit_dialect": "pytest",
                  "settings": [self.setting], "ablation": False, "seed": self.seed,
                  "target": 1e-4, "confidence": 0.95, "capture": False,
                  "source": "pytest --flakescope-runs"}
        return {"runlog": _RUNLOG_SCHEMA, "command": command, "config": config,
                "created": _utc_now()}

    def _records(self, lines):
        by_repeat = {}
        for line in lines:
            by_repeat.setdefault(line.get("repeat", 0), []).append(line)
        knobs = next((line["knobs"] for line in lines if "knobs" in line), None)
        for repeat in sorted(by_repeat):
            testcases = [_testcase(line) for line in by_repeat[repeat]]
            failed = any(t["outcome"] in _FAILURES for t in testcases)
            record = {"run": repeat, "seed": self.seed + repeat, "setting": self.setting,
                      "outcome": "fail" if failed else "pass", "exit_code": 1 if failed else 0,
                      "signal": None, "duration": sum(t["duration"] for t in testcases),
                      "testcases": testcases, "junit_error": None, "stdout_tail": "",
                      "stderr_tail": "", "captures": []}
            if knobs is not None and repeat == 0:
                record["knobs"] = knobs
            yield record


def _testcase(line):
    out = {"name": line["test"], "outcome": _OUTCOME.get(line["outcome"], line["outcome"]),
           "duration": line.get("duration", 0.0), "message": line.get("message", "")}
    for key in ("replay_id", "retry", "environment", "drew_random", "strict"):
        if line.get(key) is not None:
            out[key] = line[key]
    if line["outcome"] == "xpass":
        out["xpass"] = True
    return out


def _read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def _flakescope_binary():
    explicit = os.environ.get("FLAKESCOPE_BIN")
    if explicit:
        return explicit
    found = shutil.which("flakescope")
    if found:
        return found
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (
        os.path.join(here, "..", "..", "..", "bin", "flakescope"),  # installed: share/flakescope/pytest
        os.path.join(here, "..", "..", "..", "flakescope"),  # the build tree's copy of the plugin
        os.path.join(here, "..", "..", "build", "flakescope"),  # the source tree
    ):
        if os.access(candidate, os.X_OK):
            return os.path.normpath(candidate)
    return None


def _utc_now():
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
