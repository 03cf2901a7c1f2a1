"""Retry mechanisms, switched off while flakescope measures, and recorded per test.

A test measured through its retry loop shows the failure rate of the whole loop, not of one
attempt, which is the number a retry count must be chosen from. Handled:

- transformers' and diffusers' `is_flaky(max_attempts=N)` (transformers.testing_utils,
  diffusers.utils.testing_utils): the retry loop lives inside the decorated function, so the
  decorator itself is replaced when those modules are imported (an import hook: the test modules
  import it before any pytest hook could see the function);
- pytest-rerunfailures (`@pytest.mark.flaky(reruns=N)`, `--reruns N`) and the `flaky` package
  (`@flaky(max_runs=N)`, `@pytest.mark.flaky(max_runs=N)`): both loop in pytest_runtest_protocol,
  which the flakescope plugin implements first (tryfirst) and ends, so they never loop; their
  counts are read from the markers, options and function attributes.

Each test that carries one gets `{"mechanism", "attempts", "decorator"}`: `attempts` is how many
times the mechanism would run it at most.
"""

import functools
import sys

import flakescope_after_import

_RETRY_ATTR = "__flakescope_retry__"
_IS_FLAKY_MODULES = ("transformers.testing_utils", "diffusers.utils.testing_utils")
_state = {"disabled": False}


def set_disabled(disabled):
    """Decorations from now on run the test once (True) or keep their loop (False)."""
    _state["disabled"] = disabled
    for name in _IS_FLAKY_MODULES:  # imported before the plugin was configured
        module = sys.modules.get(name)
        if module is not None:
            _patch_is_flaky(module)


def _patch_is_flaky(module):
    original = getattr(module, "is_flaky", None)
    if original is None or getattr(original, "__flakescope_original__", None) is not None:
        return

    @functools.wraps(original)
    def is_flaky(max_attempts=5, wait_before_retry=None, description=None, *args, **kwargs):
        mark = {"mechanism": "is_flaky", "attempts": int(max_attempts),
                "decorator": "@is_flaky(max_attempts=%d)" % int(max_attempts)}

        def decorator(test_func):
            if _state["disabled"]:
                target = test_func  # one attempt: the loop is not applied
            else:
                target = original(max_attempts, wait_before_retry, description, *args, **kwargs)(test_func)
            try:
                setattr(target, _RETRY_ATTR, mark)
            except (AttributeError, TypeError):
                pass
            return target

        return decorator

    is_flaky.__flakescope_original__ = original
    module.is_flaky = is_flaky


def install_import_hook():
    """Installed when the plugin module is imported (before conftests and test modules)."""
    flakescope_after_import.install(
        flakescope_after_import.AfterImport(_IS_FLAKY_MODULES, _patch_is_flaky))


def retry_of(item):
    """The retry mechanism this test carries, or None."""
    function = getattr(item, "function", None) or getattr(item, "obj", None)
    mark = getattr(function, _RETRY_ATTR, None)
    if mark is not None:
        return dict(mark)
    for marker in item.iter_markers(name="flaky"):
        if "max_runs" in marker.kwargs or "min_passes" in marker.kwargs:
            return _flaky_package(marker.kwargs.get("max_runs"), marker.kwargs.get("min_passes"))
        reruns = marker.kwargs.get("reruns", marker.args[0] if marker.args else 1)
        return _rerunfailures(reruns, "@pytest.mark.flaky(reruns=%d)")
    max_runs = getattr(function, "_flaky_max_runs", None)  # the flaky package's decorator
    if max_runs is not None:
        return _flaky_package(max_runs, getattr(function, "_flaky_min_passes", None))
    reruns = _option(item.config, "reruns")
    if reruns:
        return _rerunfailures(reruns, "--reruns %d")
    if _option(item.config, "force_flaky"):
        return _flaky_package(_option(item.config, "flaky_max_runs"), _option(item.config, "flaky_min_passes"))
    return None


def _rerunfailures(reruns, spelling):
    reruns = int(reruns)
    return {"mechanism": "pytest-rerunfailures", "attempts": reruns + 1, "decorator": spelling % reruns}


def _flaky_package(max_runs, min_passes):
    max_runs = int(max_runs or 2)  # flaky's defaults: max_runs=2, min_passes=1
    min_passes = int(min_passes or 1)
    spelling = "@flaky(max_runs=%d)" % max_runs if min_passes == 1 else \
        "@flaky(max_runs=%d, min_passes=%d)" % (max_runs, min_passes)
    return {"mechanism": "flaky", "attempts": max_runs, "decorator": spelling}


def _option(config, name):
    try:
        return config.getoption(name)
    except (ValueError, AttributeError):
        return None
