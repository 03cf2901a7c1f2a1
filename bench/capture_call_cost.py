"""Cost of the capture per assertion call: N calls of each wrapped comparison against the same N
calls of the original, in one process, interleaved in rounds; prints microseconds per call (median
of the rounds). The capture line is written to a real file in a temporary folder, as in an audit.
Each comparison is measured twice: with the native measurement (libflakescope_measure.so, as an
audit loads it: $FLAKESCOPE_MEASURE_LIBRARY, else the newest build tree's) and with the numpy path
(what a plugin without the library uses).

usage: /usr/bin/python3 bench/capture_call_cost.py [N=1000] [ROUNDS=7]
"""
import glob
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integrations", "pytest"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import flakescope_capture as capture  # noqa: E402
import flakescope_native as native  # noqa: E402


def native_library():
    given = os.environ.get(native.ENV)
    if given:
        return given
    built = glob.glob(os.path.join(HERE, "..", "build*", "share", "flakescope", "pytest",
                                   native.LIBRARY_NAME))
    return max(built, key=os.path.getmtime) if built else None


def use_path(setting):
    """Measures with the library at `setting` ("off": the numpy path); returns the path's name."""
    os.environ[native.ENV] = setting
    native._function = None  # loaded afresh on the next call
    return native.status()


def calls(function, actual, expected, n):
    start = time.perf_counter()
    for _ in range(n):
        function(actual, expected)
    return time.perf_counter() - start


def measure(name, original, wrapped, actual, expected, n, rounds, path, label):
    """Prints one row; returns True when the capture did not write one line per call."""
    a, e = (actual.numpy(), expected.numpy()) if name.startswith("numpy") else (actual, expected)
    plain, captured = [], []
    for _ in range(rounds):
        plain.append(calls(original, a, e, n))
        captured.append(calls(wrapped, a, e, n))
    lines = sum(1 for _ in open(path))
    open(path, "w").close()  # the capture keeps its descriptor open
    if lines != n * rounds:
        print("%s: %d capture lines, expected %d" % (name, lines, n * rounds))
        return True
    base = statistics.median(plain) / n * 1e6
    cost = statistics.median(captured) / n * 1e6
    print("%-28s %-6s original %7.1f us/call  captured %7.1f us/call  capture cost %7.1f us/call"
          % (name, label, base, cost, cost - base))
    return False


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    torch.manual_seed(0)
    actual = torch.randn(64)
    expected = actual + 1e-7
    originals = {
        "torch.testing.assert_close": torch.testing.assert_close,
        "torch.allclose": torch.allclose,
        "numpy.allclose": np.allclose,
    }
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "capture.jsonl")
        patcher = capture._Patcher(path)
        patcher.patch_libraries()
        wrapped = {
            "torch.testing.assert_close": torch.testing.assert_close,
            "torch.allclose": torch.allclose,
            "numpy.allclose": np.allclose,
        }
        # This file is the "test file": the site walk finds its frame as it would a test's.
        capture._state.test = os.path.relpath(__file__) + "::bench"
        print("N=%d rounds=%d torch=%s numpy=%s python=%s" % (
            n, rounds, torch.__version__, np.__version__, sys.version.split()[0]))
        failed = False
        library = native_library()
        settings = ([library] if library else []) + ["off"]
        if not library:
            print("native measurement: no built %s (numpy path only)" % native.LIBRARY_NAME)
        for setting in settings:
            status = use_path(setting)
            print("measurement: %s" % status)
            if setting != "off" and not status.startswith("native"):
                print("the native library did not load: %s" % status)
                failed = True
                continue
            for name in originals:
                failed |= measure(name, originals[name], wrapped[name], actual, expected, n, rounds,
                                  path, "native" if setting != "off" else "numpy")
        patcher.unpatch()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
