"""Helpers for the plugin's tests: each test runs a target file in a fresh pytest subprocess, with or
without the plugin, so the plugin's patching never touches this (outer) session."""
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN_DIR = os.path.join(os.path.dirname(os.path.dirname(HERE)), "integrations", "pytest")
sys.path.insert(0, PLUGIN_DIR)  # the unit tests import the plugin module itself


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class TargetRunner:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path

    def run(self, target, env=None, plugin=True, args=(), name="test_target.py"):
        """Copies tests/python/targets/<target> to <tmp>/<name> and runs pytest on it there."""
        shutil.copy(os.path.join(HERE, "targets", target), self.tmp_path / name)
        # (FLAKESCOPE_MEASURE_LIBRARY stays: under ctest the targets measure as an audit does.)
        full_env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("FLAKESCOPE_", "PYTEST_")) or k == "FLAKESCOPE_MEASURE_LIBRARY"}
        full_env["PYTHONPATH"] = PLUGIN_DIR + os.pathsep + full_env.get("PYTHONPATH", "")
        full_env["PYTHONDONTWRITEBYTECODE"] = "1"
        full_env.update(env or {})
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", name]
        if plugin:
            command[3:3] = ["-p", "flakescope_pytest"]
        command += list(args)
        return subprocess.run(command, cwd=self.tmp_path, env=full_env, capture_output=True,
                              text=True, timeout=300)


@pytest.fixture
def target_runner(tmp_path):
    return TargetRunner(tmp_path)
