"""flakescope's pytest plugin: assertion-level capture and in-process repetition.

Activate with ``-p flakescope_pytest`` (this folder on PYTHONPATH). The plugin is inert unless one of
these is set (``flakescope audit`` sets them per run):

FLAKESCOPE_CAPTURE=<path>   append one JSON line per call of torch.testing.assert_close,
                            torch.allclose, numpy.testing.assert_allclose, numpy.allclose
FLAKESCOPE_SEED=<u64>       seed random, numpy and torch before each test (repetition i: seed + i)
FLAKESCOPE_REPEAT=<N>       run each selected test N times in this process (or --flakescope-repeat N)
FLAKESCOPE_OUTCOMES=<path>  append one JSON line per test repetition with its outcome
FLAKESCOPE_COLLECTED=<path> write the selected node ids once collection is done, before any test runs
FLAKESCOPE_SELECT=<path>    run only the node ids listed in this JSON array (after -k, --deselect)

The wrapped functions return exactly what the originals return and raise exactly what they raise:
the original is always called with the caller's arguments, and recording never raises (an internal
error is written as {"error": ...} instead of the measurement).
"""

import json
import os
import random
import sys
import time

import pytest

from flakescope_capture import _Patcher, _append_line, _state

_ENV_CAPTURE = "FLAKESCOPE_CAPTURE"
_ENV_SEED = "FLAKESCOPE_SEED"
_ENV_REPEAT = "FLAKESCOPE_REPEAT"
_ENV_OUTCOMES = "FLAKESCOPE_OUTCOMES"
_ENV_COLLECTED = "FLAKESCOPE_COLLECTED"
_ENV_SELECT = "FLAKESCOPE_SELECT"

def pytest_addoption(parser):
    group = parser.getgroup("flakescope")
    group.addoption(
        "--flakescope-repeat",
        type=int,
        default=None,
        metavar="N",
        help="run each selected test N times in this process, reseeding before each "
        "(FLAKESCOPE_SEED + i); overrides FLAKESCOPE_REPEAT",
    )
    group.addoption(
        "--flakescope-seed",
        type=int,
        default=None,
        metavar="SEED",
        help="base seed for random/numpy/torch (overrides FLAKESCOPE_SEED)",
    )


def pytest_configure(config):
    repeat = config.getoption("flakescope_repeat")
    if repeat is None and os.environ.get(_ENV_REPEAT):
        repeat = _parse_int(_ENV_REPEAT, os.environ[_ENV_REPEAT])
    seed = config.getoption("flakescope_seed")
    if seed is None and os.environ.get(_ENV_SEED):
        seed = _parse_int(_ENV_SEED, os.environ[_ENV_SEED])
    capture = os.environ.get(_ENV_CAPTURE) or None
    outcomes = os.environ.get(_ENV_OUTCOMES) or None
    collected = os.environ.get(_ENV_COLLECTED) or None
    select = os.environ.get(_ENV_SELECT) or None
    if capture is None and outcomes is None and repeat is None and collected is None and select is None:
        return  # inert: nothing asked for, so change nothing
    if repeat is not None and repeat < 1:
        raise pytest.UsageError("flakescope: the repeat count must be >= 1, got %d" % repeat)
    plugin = FlakescopePlugin(config, capture, outcomes, seed, repeat or 1)
    plugin.collected_path = collected
    plugin.select = _read_select(select) if select else None
    config.pluginmanager.register(plugin, "flakescope_plugin")


def _read_select(path):
    try:
        with open(path) as f:
            ids = json.load(f)
    except (OSError, ValueError) as exc:
        raise pytest.UsageError("flakescope: %s=%s cannot be read: %s" % (_ENV_SELECT, path, exc))
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise pytest.UsageError("flakescope: %s=%s is not a JSON array of node ids" % (_ENV_SELECT, path))
    return set(ids)


def _parse_int(name, text):
    try:
        return int(text)
    except ValueError:
        raise pytest.UsageError("flakescope: %s must be an integer, got %r" % (name, text))


class FlakescopePlugin:
    def __init__(self, config, capture_path, outcomes_path, seed, repeat):
        self.config = config
        self.capture_path = capture_path
        self.outcomes_path = outcomes_path
        self.seed = seed
        self.repeat = repeat
        self.patcher = _Patcher(capture_path) if capture_path else None
        self.collected_path = None  # FLAKESCOPE_COLLECTED
        self.select = None  # FLAKESCOPE_SELECT: the node ids to keep, or None for all
        # numpy and torch are seeded and wrapped once the tests have imported them (at collection,
        # for module-level imports): importing torch here would cost every audited run of a
        # torch-free test a second or more. Checked again before each test.
        if self.patcher:
            self.patcher.patch_libraries()

    def pytest_unconfigure(self, config):
        if self.patcher:
            self.patcher.unpatch()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items):
        # `flakescope audit --isolation inprocess` re-runs only the tests a crashed process did not
        # reach; the rest of the selection (-k, --deselect, markers) is the user's and stays.
        if self.select is None:
            return
        kept = [item for item in items if item.nodeid in self.select]
        dropped = [item for item in items if item.nodeid not in self.select]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session):
        if self.collected_path:
            # Written before the first test runs, so that when the process dies the audit knows
            # which (test, repetition) pairs it never reached: the outcome lines alone cannot say
            # whether a test after the last one recorded existed.
            _write_atomically(self.collected_path, {"collected": [item.nodeid for item in session.items]})
        # Names a test module or conftest imported directly (`from torch.testing import
        # assert_close`) before the libraries were patched still point at the originals.
        if self.patcher:
            self.patcher.patch_libraries()
            self.patcher.patch_module_globals(str(session.config.rootpath))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem):
        from _pytest.runner import runtestprotocol

        ihook = item.ihook
        if self.patcher and self.patcher.patch_libraries():  # libraries imported since then
            self.patcher.patch_module_globals(str(item.session.config.rootpath))
        env_seed = os.environ.get(_ENV_SEED)
        for i in range(self.repeat):
            last = i == self.repeat - 1
            seed = None if self.seed is None else self.seed + i
            _state.test, _state.seed, _state.repeat = item.nodeid, seed, i
            if seed is not None:
                _seed_everything(seed)
                # A test that reads FLAKESCOPE_SEED itself sees its repetition's seed, as it would
                # in the separate process `flakescope audit --isolation process` gives that seed.
                os.environ[_ENV_SEED] = str(seed)
            ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
            start = time.perf_counter()
            # Between repetitions tear down only the function-level fixtures (as a parametrized
            # test would): the item's parent is what the next "item" shares with this one.
            reports = runtestprotocol(item, log=True, nextitem=nextitem if last else item.parent)
            duration = time.perf_counter() - start
            if last:
                # Once per item, as pytest does: the terminal reporter measures the whole current
                # line on every logfinish of an item it has already counted, which made N
                # repetitions of the last test cost O(N^2) (0.4 s at N = 1000).
                ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
            else:
                _wrap_progress_line(self.config)
            if self.outcomes_path:
                outcome, message = _outcome_of(reports)
                _append_line(
                    self.outcomes_path,
                    {
                        "test": item.nodeid,
                        "repeat": i,
                        "seed": seed,
                        "outcome": outcome,
                        "duration": duration,
                        "message": message,
                    },
                )
            session = item.session
            if session.shouldfail or session.shouldstop:
                if not last:
                    # Close the fixtures we kept open for the next repetition.
                    item.session._setupstate.teardown_exact(nextitem)
                break
        _state.test, _state.seed, _state.repeat = None, None, 0
        if env_seed is None:
            os.environ.pop(_ENV_SEED, None)
        else:
            os.environ[_ENV_SEED] = env_seed
        return True


def _wrap_progress_line(config):
    """Breaks the line of progress letters at the screen's edge, which pytest does in the
    logfinish that repetitions before the last skip."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    writer = getattr(reporter, "_tw", None)
    if writer is None or reporter.verbosity > 0:
        return
    try:
        if writer.width_of_current_line + len(" [100%]") + 1 >= writer.fullwidth:
            writer.line()
    except Exception:
        pass  # cosmetics only


def _seed_everything(seed):
    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed % 2**32)  # numpy accepts only 32-bit seeds
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "manual_seed"):
        if _has_accelerator(torch):
            torch.manual_seed(seed % 2**64)  # seeds the CPU and every CUDA generator
        else:
            # The same seeding of the only generator there is. torch.manual_seed would also queue
            # a CUDA seeding that records the caller's stack (traceback.format_stack): 0.4 ms per
            # repetition inside pytest, a third of a small test's cost.
            torch.random.default_generator.manual_seed(seed % 2**64)


def _has_accelerator(torch):
    try:
        if torch.cuda.is_available():
            return True
        mps = getattr(getattr(torch, "backends", None), "mps", None)
        return bool(mps is not None and mps.is_available())
    except Exception:
        return True  # when in doubt, torch.manual_seed: it seeds everything


def _outcome_of(reports):
    """One repetition's outcome and the first line of its failure, from its phase reports."""
    outcome, message = "pass", ""
    for report in reports:
        xfail = hasattr(report, "wasxfail")
        if report.when == "call":
            if xfail:
                outcome = "xfail" if report.skipped else "xpass"
            elif report.failed:
                outcome = "fail"
            elif report.skipped:
                outcome = "skip"
        elif report.failed:
            outcome = "error"
        elif report.skipped and report.when == "setup":
            outcome = "xfail" if xfail else "skip"
        if (report.failed or report.skipped) and not message:
            message = _first_line(report)
    return outcome, message


def _first_line(report):
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # skip: (path, line, reason)
        text = str(longrepr[2])
    else:
        crash = getattr(longrepr, "reprcrash", None)
        text = crash.message if crash is not None else str(longrepr or "")
    return text.strip().splitlines()[0] if text.strip() else ""


def _write_atomically(path, obj):
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        json.dump(obj, f)
    os.replace(temporary, path)
