"""flakescope's pytest plugin: seeding, knobs, repetition, outcomes and selection.

Activate with ``-p flakescope_pytest`` (this folder on PYTHONPATH, or installed: the entry point
has the same name). The plugin is inert unless one of these is set (``flakescope audit`` sets them
per run):

FLAKESCOPE_SEED=<u64>       seed random, numpy and torch (CPU and every CUDA device) before each
                            test (repetition i: seed + i); or --flakescope-seed. Whatever is
                            set, an active plugin seeds them with 0 before importing each test
                            module, so that parameters drawn at import are the same in every run
FLAKESCOPE_SETTING=<name>   the determinism setting whose knobs are applied before each repetition
                            ("controlled", "free", "free:threads+tf32"); or --flakescope-setting
FLAKESCOPE_REPEAT=<N>       run each selected test N times in this process (or --flakescope-repeat N)
FLAKESCOPE_OUTCOMES=<path>  append one JSON line per test repetition with its outcome
FLAKESCOPE_COLLECTED=<path> write the selected node ids once collection is done, before any test runs
FLAKESCOPE_SELECT=<path>    run only the node ids listed in this JSON array (after -k, --deselect)
FLAKESCOPE_CAPTURE=<path>   assertion capture (flakescope_capture)
FLAKESCOPE_RETRIES=keep     keep retry decorators working (by default an active plugin measures
                            each attempt: is_flaky, pytest-rerunfailures and flaky run once)

``--flakescope-runs N [--flakescope-out R.json]`` repeats the selected tests N times in this pytest
run and prints flakescope's per-test summary at the end (the report of
``flakescope audit --isolation inprocess``).
"""

import json
import os
import random
import sys
import time

import pytest

import flakescope_collection_seed
import flakescope_knobs
import flakescope_retries
from flakescope_capture import AssertionHooks, _Patcher, _append_line, _state
from flakescope_outcomes import (GeneratorStates, ReseedWatch, environment_error, outcome_of,
                                 xfail_strict)

_ENV_CAPTURE = "FLAKESCOPE_CAPTURE"
_ENV_SEED = "FLAKESCOPE_SEED"
_ENV_SETTING = "FLAKESCOPE_SETTING"
_ENV_REPEAT = "FLAKESCOPE_REPEAT"
_ENV_OUTCOMES = "FLAKESCOPE_OUTCOMES"
_ENV_COLLECTED = "FLAKESCOPE_COLLECTED"
_ENV_SELECT = "FLAKESCOPE_SELECT"
_ENV_RETRIES = "FLAKESCOPE_RETRIES"

# Before conftests and test modules import transformers'/diffusers' testing_utils (the hook does
# nothing until the plugin is configured active).
flakescope_retries.install_import_hook()


def pytest_addoption(parser):
    group = parser.getgroup("flakescope")
    group.addoption("--flakescope-repeat", type=int, default=None, metavar="N",
                    help="run each selected test N times in this process, reseeding before each "
                    "(FLAKESCOPE_SEED + i); overrides FLAKESCOPE_REPEAT")
    group.addoption("--flakescope-seed", type=int, default=None, metavar="SEED",
                    help="base seed for random/numpy/torch (overrides FLAKESCOPE_SEED)")
    group.addoption("--flakescope-setting", default=None, metavar="NAME",
                    help="determinism setting whose knobs are applied before each repetition "
                    "(controlled, free, free:KNOB+KNOB; overrides FLAKESCOPE_SETTING)")
    group.addoption("--flakescope-runs", type=int, default=None, metavar="N",
                    help="repeat the selected tests N times (seed --flakescope-seed or 1, setting "
                    "controlled) and print flakescope's per-test summary")
    group.addoption("--flakescope-out", default=None, metavar="REPORT.json",
                    help="with --flakescope-runs: where the report goes (default flakescope-audit.json)")


def pytest_configure(config):
    options = _read_options(config)
    if options is None:
        return  # inert: nothing asked for, so change nothing
    plugin = FlakescopePlugin(config, options)
    config.pluginmanager.register(plugin, "flakescope_plugin")
    if options["capture"]:  # plain `assert deviation < tol` comparisons, through pytest's hooks
        config.pluginmanager.register(AssertionHooks(config, options["capture"]), "flakescope_assertions")


def _read_options(config):
    env = os.environ
    runs = config.getoption("flakescope_runs")
    repeat = config.getoption("flakescope_repeat")
    if repeat is None and env.get(_ENV_REPEAT):
        repeat = _parse_int(_ENV_REPEAT, env[_ENV_REPEAT])
    seed = config.getoption("flakescope_seed")
    if seed is None and env.get(_ENV_SEED):
        seed = _parse_int(_ENV_SEED, env[_ENV_SEED])
    setting = config.getoption("flakescope_setting") or env.get(_ENV_SETTING) or None
    paths = {key: env.get(name) or None for key, name in
             (("capture", _ENV_CAPTURE), ("outcomes", _ENV_OUTCOMES), ("collected", _ENV_COLLECTED),
              ("select", _ENV_SELECT))}
    if runs is None and repeat is None and seed is None and setting is None and not any(paths.values()):
        return None
    if runs is not None:
        if runs < 1:
            raise pytest.UsageError("flakescope: --flakescope-runs must be >= 1, got %d" % runs)
        repeat = runs
        seed = 1 if seed is None else seed
        setting = setting or "controlled"
    if repeat is not None and repeat < 1:
        raise pytest.UsageError("flakescope: the repeat count must be >= 1, got %d" % repeat)
    options = dict(paths, repeat=repeat or 1, seed=seed, setting=setting, runs=runs,
                   out=config.getoption("flakescope_out"))
    options["free"] = flakescope_knobs.parse_setting(setting) if setting else None
    if options["select"]:
        options["select"] = _read_select(options["select"])
    return options


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
    def __init__(self, config, options):
        self.config = config
        self.seed = options["seed"]
        self.repeat = options["repeat"]
        self.free = options["free"]  # None: no setting given, torch's switches are left alone
        self.select = options["select"]  # FLAKESCOPE_SELECT: the node ids to keep, or None for all
        self.collected_path = options["collected"]
        self.outcomes_path = options["outcomes"]
        self.runs_report = None
        if options["runs"] is not None:
            import flakescope_runs

            self.runs_report = flakescope_runs.RunsReport(config, options)
            self.outcomes_path = self.runs_report.outcomes_path
        self.knobs_written = False
        self.reseeds = ReseedWatch()  # whether a test seeds the global generators itself
        self.report_seconds = 0.0  # building failure reports in the current repetition
        capture_path = options["capture"]
        self.patcher = _Patcher(capture_path) if capture_path else None
        if self.free is not None:
            flakescope_knobs.apply_process_level(self.free)
        flakescope_retries.set_disabled(os.environ.get(_ENV_RETRIES) != "keep")
        flakescope_collection_seed.start()  # the same test ids in every run
        # numpy and torch are seeded and wrapped once the tests have imported them (at collection,
        # for module-level imports): importing torch here would cost every audited run of a
        # torch-free test a second or more. Checked again before each test.
        if self.patcher:
            self.patcher.patch_libraries()

    def pytest_unconfigure(self, config):
        flakescope_collection_seed.stop()
        self.reseeds.unpatch()
        if self.patcher:
            self.patcher.unpatch()
        flakescope_retries.set_disabled(False)

    def pytest_collectstart(self, collector):
        if isinstance(collector, pytest.Module):
            flakescope_collection_seed.seed_generators()

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
        flakescope_collection_seed.stop()
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

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        # Outermost, so the time covers pytest building the traceback (repr_failure): with
        # --tb=auto/long and big tensors in the frames it can dominate an audit.
        start = time.perf_counter()
        result = yield
        report = result.get_result()
        if call.excinfo is not None and report.failed:
            self.report_seconds += time.perf_counter() - start
            environment = environment_error(call.excinfo.value)
            if environment:
                report.flakescope_environment = environment

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem):
        # tryfirst and returning True: pytest-rerunfailures' and flaky's own protocol hooks (their
        # retry loops) never run while flakescope measures.
        if self.patcher and self.patcher.patch_libraries():  # libraries imported since then
            self.patcher.patch_module_globals(str(item.session.config.rootpath))
        self.reseeds.patch()  # the seeding functions of libraries imported since the last test
        saved_env = {k: os.environ.get(k) for k in (_ENV_SEED, "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
        fixed = {"test": item.nodeid, "replay_id": _invocation_id(item),
                 "retry": flakescope_retries.retry_of(item), "strict": xfail_strict(item)}
        wrap_progress_line = _progress_line_wrapper(self.config) if self.repeat > 1 else None
        for i in range(self.repeat):
            last = i == self.repeat - 1
            seed, before = self._prepare(item, i)
            self.report_seconds = 0.0
            ihook = item.ihook
            ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
            start = time.perf_counter()
            # Between repetitions tear down only the function-level fixtures (as a parametrized
            # test would): the item's parent is what the next "item" shares with this one.
            reports = runtestprotocol_of(item, nextitem if last else item.parent)
            duration = time.perf_counter() - start
            if last:
                # Once per item, as pytest does: the terminal reporter measures the whole current
                # line on every logfinish of an item it has already counted, which made N
                # repetitions of the last test cost O(N^2) (0.4 s at N = 1000).
                ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
            elif wrap_progress_line is not None:
                wrap_progress_line()
            if self.outcomes_path:
                self._write_outcome(fixed, i, seed, reports, duration, before)
            session = item.session
            if session.shouldfail or session.shouldstop:
                if not last:
                    # Close the fixtures we kept open for the next repetition.
                    item.session._setupstate.teardown_exact(nextitem)
                break
        _state.test, _state.seed, _state.repeat = None, None, 0
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        return True

    def _prepare(self, item, i):
        """Seeds and sets the knobs of repetition i; returns its seed and the generator states
        right after seeding."""
        seed = None if self.seed is None else self.seed + i
        _state.test, _state.seed, _state.repeat = item.nodeid, seed, i
        if seed is not None:
            self.reseeds.own(_seed_everything, seed)
            # A test that reads FLAKESCOPE_SEED itself sees its repetition's seed, as it would
            # in the separate process `flakescope audit --isolation process` gives that seed.
            os.environ[_ENV_SEED] = str(seed)
        elif self.free is not None and "generator" in self.free:
            # The free generator: fresh entropy per repetition, as unseeded runs on CI get
            # (a fresh process's torch generator alone would always start from the same seed).
            self.reseeds.own(_seed_everything, int.from_bytes(os.urandom(8), "little"))
        self.reseeds.seen = False
        if self.free is not None:
            flakescope_knobs.apply(self.free, flakescope_knobs.thread_count(self.free, seed))
        try:
            return seed, GeneratorStates(seeded=self._seeded(seed))
        except Exception:
            return seed, None

    def _seeded(self, seed):
        """Whether this repetition seeded the generators (then numpy's state is read cheaply)."""
        return seed is not None or (self.free is not None and "generator" in self.free)

    def _write_outcome(self, fixed, i, seed, reports, duration, before):
        outcome, message, environment = outcome_of(reports)
        drew = None
        if before is not None:
            try:
                drew = GeneratorStates(seeded=self._seeded(seed)).drew_since(before)
            except Exception:
                drew = None
        line = {"test": fixed["test"], "repeat": i, "seed": seed, "outcome": outcome,
                "duration": duration, "message": message, "drew_random": drew}
        for key in ("replay_id", "retry", "strict"):
            if fixed[key] is not None and (key != "strict" or outcome in ("xfail", "xpass", "fail")):
                line[key] = fixed[key]
        if environment:
            line["environment"] = environment
        if self.reseeds.seen:
            line["reseeded"] = True
        if self.report_seconds > 0:
            line["report_seconds"] = round(self.report_seconds, 6)
        if not self.knobs_written and self.free is not None:
            # Once per process: what torch had in force during its first measured repetition.
            line["knobs"] = flakescope_knobs.read_back()
            self.knobs_written = True
        _append_line(self.outcomes_path, line)

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter):
        if self.runs_report is not None:
            self.runs_report.finish(terminalreporter)


def runtestprotocol_of(item, nextitem):
    from _pytest.runner import runtestprotocol

    return runtestprotocol(item, log=True, nextitem=nextitem)


def _invocation_id(item):
    """The node id as a path from the directory pytest was started in (a node id is relative to
    the rootdir, which a replay from another directory could not find)."""
    path, sep, rest = item.nodeid.partition("::")
    try:
        full = os.path.join(str(item.config.rootpath), path)
        relative = os.path.relpath(full, str(item.config.invocation_params.dir))
    except (ValueError, AttributeError):
        return item.nodeid
    if relative.startswith(".."):
        relative = os.path.normpath(full)  # outside the start folder: an absolute path reads better
    return relative + sep + rest


def _progress_line_wrapper(config):
    """What breaks the line of progress letters at the screen's edge, which pytest does in the
    logfinish that repetitions before the last skip; None when there is no such line (verbose
    output, no terminal reporter). The screen width is read once per test: reading it costs a
    failed ioctl when the output is not a terminal."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    writer = getattr(reporter, "_tw", None)
    if writer is None or reporter.verbosity > 0:
        return None
    try:
        room = writer.fullwidth - len(" [100%]") - 1
    except Exception:
        return None

    def wrap():
        try:
            # A character takes at most two columns: a line that short fits without measuring it
            # (width_of_current_line measures every character of the line).
            line = getattr(writer, "_current_line", None)
            if isinstance(line, str) and 2 * len(line) < room:
                return
            if writer.width_of_current_line >= room:
                writer.line()
        except Exception:
            pass  # cosmetics only

    return wrap


def _seed_everything(seed):
    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed % 2**32)  # numpy accepts only 32-bit seeds
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "manual_seed"):
        if _has_accelerator(torch):
            torch.manual_seed(seed % 2**64)  # seeds the CPU and every CUDA generator (lazily)
        else:
            # The same seeding of the only generator there is. torch.manual_seed would also queue
            # a CUDA seeding that records the caller's stack (traceback.format_stack): 0.4 ms per
            # repetition inside pytest, a third of a small test's cost.
            torch.random.default_generator.manual_seed(seed % 2**64)


_ACCELERATOR = {}  # id(torch) -> (torch, whether it has an accelerator): asked every repetition


def _has_accelerator(torch):
    known = _ACCELERATOR.get(id(torch))
    if known is not None and known[0] is torch:
        return known[1]
    try:
        found = bool(torch.cuda.is_available())
        if not found:
            mps = getattr(getattr(torch, "backends", None), "mps", None)
            found = bool(mps is not None and mps.is_available())
    except Exception:
        found = True  # when in doubt, torch.manual_seed: it seeds everything
    _ACCELERATOR[id(torch)] = (torch, found)
    return found


def _write_atomically(path, obj):
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        json.dump(obj, f)
    os.replace(temporary, path)
