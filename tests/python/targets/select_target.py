"""Three tests that log the FLAKESCOPE_SEED they see; tests/python/test_selection.py checks what
`flakescope audit --isolation inprocess` relies on: the per-repetition seed in the environment,
the collected node ids, and running only a selection of them."""
import json
import os


def _log(name):
    with open(os.environ["TARGET_LOG"], "a") as f:
        f.write(json.dumps({"test": name, "seed": os.environ.get("FLAKESCOPE_SEED")}) + "\n")


def test_first():
    _log("first")


def test_second():
    _log("second")


def test_third():
    _log("third")


def test_fourth():
    _log("fourth")
