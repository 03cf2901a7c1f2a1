"""flakescope's assertion capture: wraps the comparison functions ML tests call and records, per
call, the site, the arguments and the measured deviation (one JSON line each, FLAKESCOPE_CAPTURE).

Loaded by the pytest plugin (flakescope_pytest); the wrapped functions return exactly what the
originals return and raise exactly what they raise.
"""

import ast
import json
import linecache
import math
import operator
import os
import re
import sys
import threading

import flakescope_gradcheck
import flakescope_tolerance_source
import flakescope_unittest_compare
import flakescope_native
import flakescope_pass_formatting

# torch.testing.assert_close defaults per dtype name (torch/testing/_comparison.py, 1.13 to 2.x);
# dtypes not listed (integers, bool) compare exactly.
_TORCH_DEFAULT_TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
    "complex32": (1e-3, 1e-5),
    "complex64": (1.3e-6, 1e-5),
    "complex128": (1e-7, 1e-7),
}
# The deprecated torch.testing.assert_allclose has defaults of its own (torch/testing/_deprecated.py
# _DTYPE_PRECISIONS, the larger of the two dtypes'; other dtypes 0): rtol 1e-4 for float32, not
# assert_close's 1.3e-6.
_DEPRECATED_DEFAULT_TOLERANCES = {
    "float16": (1e-3, 1e-3),
    "float32": (1e-4, 1e-5),
    "float64": (1e-5, 1e-8),
}
# Python numbers are compared by assert_close as these dtypes.
_PYTHON_NUMBER_DTYPES = {bool: "bool", int: "int64", float: "float64", complex: "complex128"}


class _State(threading.local):
    """What the wrappers need to know about the running test (per thread)."""

    def __init__(self):
        self.test = None
        self.seed = None
        self.repeat = 0
        self.recording = False  # guards against recording nested wrapped calls
        self.suffix_for = None  # the test whose file suffix and function name are cached
        self.suffix = None
        self.function = None


_state = _State()

_NUMPY = None


def _np():
    """numpy, imported on first use (an import statement per call costs a dictionary walk)."""
    global _NUMPY
    if _NUMPY is None:
        import numpy

        _NUMPY = numpy
    return _NUMPY


_OPEN_FILES = {}  # (path, pid) -> fd, kept open: an open(2)/close(2) per call cost more than the line
_PID = [os.getpid()]  # this process's id, kept current across fork (getpid(2) per line otherwise)


def _forked():
    _PID[0] = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


# json.dumps(obj, allow_nan=False) builds an encoder per call; this one is built once.
_ENCODE = json.JSONEncoder(allow_nan=False).encode


def _append_line(path, obj):
    # One write(2) per line in append mode: concurrent writers (pytest-xdist workers, several
    # processes of one audit) never interleave inside a line. Written at the call, not buffered
    # per repetition: a process that dies mid-repetition keeps every call made before it, and the
    # write is 1-2 us of a capture's ~70 (buffering saves nothing with one call per repetition).
    data = (_ENCODE(obj) + "\n").encode()
    key = (path, _PID[0])  # a forked child opens its own
    fd = _OPEN_FILES.get(key)
    if fd is None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        _OPEN_FILES[key] = fd
    try:
        os.write(fd, data)
    except OSError:
        _OPEN_FILES.pop(key, None)
        os.close(fd)
        raise


# --------------------------------------------------------------------------------------------
# Wrapping the assertion functions


# The names a helper's parameters take when they carry a tolerance the helper passes on.
_TOLERANCE_PARAMETERS = ("rtol", "atol", "tol", "tolerance", "decimal", "places", "delta", "eps",
                         "precision", "prec")


class _Api:
    """How one assertion function takes its arguments, what its defaults are, and what passing
    means for it.

    kind: "raises"    fails by raising AssertionError (assert_close, assert_allclose)
          "predicate" returns a bool (allclose, equal)
          "elementwise" returns a boolean tensor/array; the check is its .all() (isclose)
    exact: the comparison is bitwise (torch.equal, assert_array_equal, assertEqual of tensors)
    tolerances(bound) -> (rtol, atol) for the call, or None for assert_close's per-dtype defaults
    wants(bound): whether the call compares numbers at all (assertEqual of two strings: not ours)
    """

    def __init__(self, name, positional, kind, tolerances, equal_nan_default=False, exact=False,
                 wants=None, checks_dtype=False, default_table=None):
        self.name = name
        self.positional = positional  # parameter names that may be passed positionally
        self.kind = kind
        self.tolerances = tolerances
        self.equal_nan_default = equal_nan_default
        self.exact = exact
        self.wants = wants
        self.checks_dtype = checks_dtype
        # dtype name -> (rtol, atol) when `tolerances` gives None (both left out)
        self.default_table = default_table if default_table is not None else _TORCH_DEFAULT_TOLERANCES
        self.first, self.second = [p for p in positional if p != "self"][:2]

    def bind(self, args, kwargs):
        bound = dict(zip(self.positional, args))
        bound.update(kwargs)
        return bound


def _given(bound, name, default):
    value = bound.get(name, default)
    return default if value is None else value


def _decimal_rule(default_decimal):
    # assert_array_almost_equal / assert_almost_equal: abs(desired - actual) < 1.5 * 10**-decimal
    return lambda b: (0.0, 1.5 * 10.0 ** (-int(_given(b, "decimal", default_decimal))))


def _almost_equal_rule(bound):
    # unittest: abs(first - second) <= delta, or round(abs(first - second), places) == 0, which
    # holds below half a unit of the last place.
    if bound.get("delta") is not None:
        return 0.0, float(bound["delta"])
    return 0.0, 0.5 * 10.0 ** (-int(_given(bound, "places", 7)))


def _is_array(value):
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return True
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.ndarray)


def _compares_arrays(bound):
    return _is_array(bound.get("first")) or _is_array(bound.get("second"))


def _compares_arrays_or_floats(bound):
    """assertEqual of arrays, or of two numbers one of which is not a count (`loss.item()` on
    both sides: pytorch-metric-learning's exact float checks)."""
    if _compares_arrays(bound):
        return True
    first, second = bound.get("first"), bound.get("second")
    return (_scalar(first) is not None and _scalar(second) is not None
            and not (_integral(first) and _integral(second)))


def _compares_numbers(bound):
    return all(_scalar(bound.get(k)) is not None for k in ("first", "second"))


def _integral(value):
    """Whether `value` is a count (an int or bool, a numpy integer, an integer array or tensor):
    `assert out.dim() > ref.dim()` and `assertLess(len(x), n)` check structure, not a deviation."""
    if isinstance(value, (bool, int)):
        return True
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, (numpy.ndarray, numpy.generic)):
        return value.dtype.kind in "biu"
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return not (value.is_floating_point() or value.is_complex())
    return False


def _compares_a_deviation(bound):
    """A threshold comparison of two numbers, one of them not a count."""
    first, second = bound.get("first"), bound.get("second")
    return _compares_numbers(bound) and not (_integral(first) and _integral(second))


_UNITTEST = ["self", "first", "second"]
_APIS = {
    "torch.testing.assert_close": _Api(
        "torch.testing.assert_close", ["actual", "expected"], "raises",
        lambda b: None if b.get("rtol") is None and b.get("atol") is None else (b.get("rtol"), b.get("atol")),
        checks_dtype=True,
    ),
    # Deprecated since torch 1.12 and still common: it calls assert_close from inside torch, a
    # call the capture ignores (torch's own), so it is wrapped itself. Its defaults are
    # assert_close's per dtype; NaNs compare equal and dtypes are not checked.
    "torch.testing.assert_allclose": _Api(
        "torch.testing.assert_allclose", ["actual", "expected", "rtol", "atol", "equal_nan", "msg"],
        "raises",
        lambda b: None if b.get("rtol") is None and b.get("atol") is None else (b.get("rtol"), b.get("atol")),
        equal_nan_default=True, default_table=_DEPRECATED_DEFAULT_TOLERANCES,
    ),
    "torch.allclose": _Api(
        "torch.allclose", ["input", "other", "rtol", "atol", "equal_nan"], "predicate",
        lambda b: (_given(b, "rtol", 1e-5), _given(b, "atol", 1e-8)),
    ),
    "torch.isclose": _Api(
        "torch.isclose", ["input", "other", "rtol", "atol", "equal_nan"], "elementwise",
        lambda b: (_given(b, "rtol", 1e-5), _given(b, "atol", 1e-8)),
    ),
    "torch.equal": _Api("torch.equal", ["input", "other"], "predicate", lambda b: (0.0, 0.0),
                        exact=True),
    "numpy.testing.assert_allclose": _Api(
        "numpy.testing.assert_allclose", ["actual", "desired", "rtol", "atol", "equal_nan"], "raises",
        lambda b: (_given(b, "rtol", 1e-7), _given(b, "atol", 0.0)), equal_nan_default=True,
    ),
    "numpy.testing.assert_array_almost_equal": _Api(
        "numpy.testing.assert_array_almost_equal", ["x", "y", "decimal"], "raises", _decimal_rule(6),
        equal_nan_default=True,
    ),
    "numpy.testing.assert_almost_equal": _Api(
        "numpy.testing.assert_almost_equal", ["actual", "desired", "decimal"], "raises",
        _decimal_rule(7), equal_nan_default=True,
    ),
    "numpy.testing.assert_array_equal": _Api(
        "numpy.testing.assert_array_equal", ["x", "y"], "raises", lambda b: (0.0, 0.0),
        equal_nan_default=True, exact=True,
    ),
    # assert_equal of arrays is assert_array_equal (NaNs equal); of other objects, not ours.
    "numpy.testing.assert_equal": _Api(
        "numpy.testing.assert_equal", ["actual", "desired"], "raises", lambda b: (0.0, 0.0),
        equal_nan_default=True, exact=True,
        wants=lambda b: _is_array(b.get("actual")) or _is_array(b.get("desired")),
    ),
    "numpy.array_equal": _Api(
        "numpy.array_equal", ["a1", "a2", "equal_nan"], "predicate", lambda b: (0.0, 0.0),
        exact=True,
    ),
    "numpy.allclose": _Api(
        "numpy.allclose", ["a", "b", "rtol", "atol", "equal_nan"], "predicate",
        lambda b: (_given(b, "rtol", 1e-5), _given(b, "atol", 1e-8)),
    ),
    "numpy.isclose": _Api(
        "numpy.isclose", ["a", "b", "rtol", "atol", "equal_nan"], "elementwise",
        lambda b: (_given(b, "rtol", 1e-5), _given(b, "atol", 1e-8)),
    ),
    "unittest.assertAlmostEqual": _Api(
        "unittest.assertAlmostEqual", _UNITTEST + ["places", "msg", "delta"], "raises",
        _almost_equal_rule, wants=_compares_numbers,
    ),
    "unittest.assertEqual": _Api(
        "unittest.assertEqual", _UNITTEST + ["msg"], "raises", lambda b: (0.0, 0.0), exact=True,
        wants=_compares_arrays_or_floats,
    ),
}
# unittest threshold comparisons: (method, operator as written `first OP second`)
_UNITTEST_THRESHOLDS = {"assertLess": "<", "assertLessEqual": "<=", "assertGreater": ">",
                        "assertGreaterEqual": ">="}


class _Patcher:
    def __init__(self, capture_path):
        self.capture_path = capture_path
        self.wrappers = {}  # id(original) -> (original, wrapper)
        self.patched_attrs = []  # (owner, attribute, original) to undo

    def patch_libraries(self):
        """Wraps the functions of the libraries imported so far; True when it wrapped any."""
        import unittest

        targets = [(unittest.TestCase, "assertAlmostEqual", _APIS["unittest.assertAlmostEqual"]),
                   (unittest.TestCase, "assertEqual", _APIS["unittest.assertEqual"])]
        for method, op in _UNITTEST_THRESHOLDS.items():
            targets.append((unittest.TestCase, method, _ThresholdApi(op)))
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            for name in ("assert_allclose", "assert_array_almost_equal", "assert_almost_equal",
                         "assert_array_equal", "assert_equal"):
                targets.append((numpy.testing, name, _APIS["numpy.testing." + name]))
            targets.append((numpy, "allclose", _APIS["numpy.allclose"]))
            targets.append((numpy, "array_equal", _APIS["numpy.array_equal"]))
            targets.append((numpy, "isclose", _APIS["numpy.isclose"]))
        torch = sys.modules.get("torch")
        if torch is not None and hasattr(torch, "testing") and hasattr(torch, "allclose"):
            targets.append((torch.testing, "assert_close", _APIS["torch.testing.assert_close"]))
            if hasattr(torch.testing, "assert_allclose"):
                targets.append((torch.testing, "assert_allclose",
                                _APIS["torch.testing.assert_allclose"]))
            for name in ("allclose", "isclose", "equal"):
                targets.append((torch, name, _APIS["torch." + name]))
                # The method form, `a.equal(b)` (botorch), defined on torch's C base class.
                targets.append((torch.Tensor, name, _APIS["torch." + name]))
            for owner, name in flakescope_gradcheck.targets():
                targets.append((owner, name, _GRADCHECK_APIS[name]))
            flakescope_gradcheck.hook_internals(self.patched_attrs)
        before = len(self.wrappers)
        for owner, attribute, api in targets:
            original = owner.__dict__.get(attribute) if isinstance(owner, type) else getattr(owner, attribute, None)
            if original is None and torch is not None and owner is getattr(torch, "Tensor", None):
                original = getattr(owner, attribute, None)  # inherited from torch._C
            if original is None or getattr(original, "__flakescope_original__", None) is not None:
                continue  # absent, or already wrapped
            wrapper = _make_wrapper(original, api, self.capture_path)
            self.wrappers[id(original)] = (original, wrapper)
            setattr(owner, attribute, wrapper)
            self.patched_attrs.append((owner, attribute, original))
        return len(self.wrappers) > before

    def patch_module_globals(self, rootdir):
        """Rebinds the names the suite's modules imported (`from torch.testing import
        assert_allclose`) to the wrappers: the modules under the rootdir, and the testing helpers
        of installed packages (kornia.testing, gpytorch.test.base_test_case), which bound the
        originals when they were imported, before the plugin could wrap them."""
        rootdir = os.path.abspath(rootdir) + os.sep
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if not path or module is sys.modules[__name__]:
                continue
            installed = "site-packages" in path or "dist-packages" in path
            if installed or not os.path.abspath(path).startswith(rootdir):
                if not _is_installed_testing_helper(name):
                    continue
            namespace = getattr(module, "__dict__", {})
            for name, value in list(namespace.items()):
                entry = self.wrappers.get(id(value))
                if entry is not None and entry[0] is value:
                    namespace[name] = entry[1]
                    self.patched_attrs.append((module, name, value))

    def unpatch(self):
        for owner, attribute, original in reversed(self.patched_attrs):
            setattr(owner, attribute, original)
        self.patched_attrs = []


# Packages whose own testing modules are the compared functions or the test runner, not helpers.
_NOT_HELPERS = {"torch", "numpy", "pytest", "_pytest", "unittest", "test", "scipy", "pluggy",
                "hypothesis"}


def _is_installed_testing_helper(module_name):
    """`kornia.testing`, `gpytorch.test.base_test_case`: a package's module with a `test`
    component in its dotted name."""
    top = module_name.split(".", 1)[0]
    if "." not in module_name or top in _NOT_HELPERS or top.startswith("flakescope_"):
        return False
    return any("test" in part for part in module_name.split(".")[1:])


def _make_wrapper(original, api, capture_path):
    def wrapper(*args, **kwargs):
        __tracebackhide__ = True  # pytest shows the failure at the test's line, as without us
        if _state.recording:  # called from inside another wrapped assertion: not a test's call
            return original(*args, **kwargs)
        caller = sys._getframe(1)
        try:
            bound = _assertion_arguments(api, args, kwargs, caller)
        except Exception:
            bound = None  # never let the capture's own checks change what the call does
        if bound is None:
            return original(*args, **kwargs)
        _state.recording = True
        begin = getattr(api, "begin", None)  # gradcheck: observes the comparisons inside the call
        observed = begin(bound) if begin is not None else None
        try:
            try:
                result = original(*args, **kwargs)
            except BaseException as exc:
                if begin is not None:
                    observed, begin = api.end(observed), None
                    try:
                        observed = api.complete(original, args, kwargs, observed, exc)
                    except Exception:
                        pass  # the partial measurement stands
                _record(capture_path, api, caller, bound, result=None, exception=exc,
                        observed=observed)
                raise
            if begin is not None:
                observed, begin = api.end(observed), None
            _record(capture_path, api, caller, bound, result=result, exception=None,
                    observed=observed)
            return result
        finally:
            if begin is not None:
                api.end(observed)
            _state.recording = False

    wrapper.__flakescope_original__ = original
    wrapper.__name__ = getattr(original, "__name__", api.name.rsplit(".", 1)[-1])
    wrapper.__qualname__ = getattr(original, "__qualname__", wrapper.__name__)
    wrapper.__doc__ = getattr(original, "__doc__", None)
    wrapper.__wrapped__ = original
    return wrapper


# --------------------------------------------------------------------------------------------
# Where the call is: the test's line, and the helper it went through


def _assertion_arguments(api, args, kwargs, caller):
    """The call's arguments by parameter name (bound once, for every later step), or None when
    the call is not a test's assertion."""
    bound = api.bind(args, kwargs)
    if api.wants is not None and not api.wants(bound):
        return None  # assertEqual of two strings: not a numeric comparison
    first = bound.get(api.first)
    filename = caller.f_code.co_filename
    if first is not None and first is bound.get(api.second):
        if not _is_test_code(filename):
            return None  # torch.equal(t, t): a NaN self-check inside a library, not a test's check
        if _passes_one_expression_twice(caller) and not filename.endswith(_test_file_suffix() or "\0"):
            return None  # a testing helper's own NaN check (`torch.equal(tensor1, tensor1)`)
    if api.exact and _both_boolean(first, bound.get(api.second)) and not filename.endswith(
            _test_file_suffix() or "\0"):
        return None  # a helper's NaN-position check (`torch.equal(a != a, b != b)`), not its values
    if _is_compared_library(filename):
        return None  # torch.jit.trace checking its trace with assert_close: torch's, not a test's
    # torch.equal / allclose in the library under test decide control flow; only a call from the
    # tests or their testing helpers is an assertion.
    if api.kind != "raises" and not _is_test_code(filename):
        return None
    # backpack's testing helper `if torch.allclose(mean_loss, sum_loss): factor = ...` picks a
    # branch; an `if not allclose(...): raise` is still a check.
    if api.kind != "raises" and _decides_a_branch(caller):
        return None
    return bound


_BRANCH_CACHE = {}
_FAILING_CALLS = ("fail", "skipTest")


def _first_node(frame, cache, matches):
    """The first node of the frame's function for which `matches(node, line)` holds (`line`
    counted from the function's first line), cached per (code, line); None when none matches or
    the source cannot be read."""
    key = (frame.f_code, frame.f_lineno)
    if key not in cache:
        code = frame.f_code
        tree = _function_tree(code)
        line = frame.f_lineno - code.co_firstlineno + 1
        cache[key] = next((node for node in ast.walk(tree) if matches(node, line)),
                          None) if tree is not None else None
    return cache[key]


def _decides_a_branch(frame):
    """Whether the call at the frame's line is in the condition of an `if`/`elif`/`while` (or a
    conditional expression) none of whose branches raises, asserts or fails the test: control
    flow of a testing helper, not an assertion."""
    node = _first_node(frame, _BRANCH_CACHE, lambda node, line: isinstance(
        node, (ast.If, ast.While, ast.IfExp)) and node.test.lineno <= line <= node.test.end_lineno)
    if node is None:
        return False
    if isinstance(node, (ast.If, ast.While)):
        # An `elif` chain ending in `raise` (backpack: "could not determine the reduction"):
        # each condition still only picks a branch; the raise is the chain's, not this test's.
        chained = len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If)
        branches = node.body + ([] if chained else node.orelse)
    else:
        branches = [node.body, node.orelse]
    return not any(_fails_the_test(branch) for branch in branches)


def _fails_the_test(node):
    for inner in ast.walk(node):
        if isinstance(inner, (ast.Raise, ast.Assert)):
            return True
        if isinstance(inner, ast.Call):
            name = inner.func.attr if isinstance(inner.func, ast.Attribute) else getattr(
                inner.func, "id", "")
            if name in _FAILING_CALLS or name.startswith("assert"):
                return True
    return False


def _both_boolean(a, b):
    """Whether both are boolean tensors or arrays (masks, not values)."""
    def boolean(x):
        dtype = getattr(x, "dtype", None)
        return dtype is not None and str(dtype) in ("torch.bool", "bool")
    return boolean(a) and boolean(b)


_SAME_EXPRESSION_CACHE = {}


def _passes_one_expression_twice(frame):
    """Whether the call on the frame's line passes one expression as both compared arguments
    (`torch.equal(tensor1, tensor1)`), read from the line's syntax tree."""
    key = (frame.f_code.co_filename, frame.f_lineno)
    found = _SAME_EXPRESSION_CACHE.get(key)
    if found is None:
        found = False
        try:
            tree = ast.parse(linecache.getline(*key).strip())
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and len(node.args) >= 2:
                    if ast.dump(node.args[0]) == ast.dump(node.args[1]):
                        found = True
                        break
        except (SyntaxError, ValueError):
            pass
        _SAME_EXPRESSION_CACHE[key] = found
    return found


_FUNCTION_TREES = {}  # code object -> the syntax tree of its function's source, or None


def _function_tree(code):
    """The syntax tree of the function whose code this is (its line 1 is code.co_firstlineno),
    parsed once; None when its source cannot be read."""
    if code not in _FUNCTION_TREES:
        try:
            import inspect
            import textwrap

            # The block at the code's first line of its file, as inspect.getsource finds it, but
            # without getsource's search of sys.modules for the code's module: with torch loaded
            # that search took 40-50 ms, a tenth of a 1000-run capture's whole cost.
            lines = linecache.getlines(code.co_filename)
            block = inspect.getblock(lines[code.co_firstlineno - 1:]) if lines else []
            _FUNCTION_TREES[code] = ast.parse(textwrap.dedent("".join(block))) if block else None
        except (OSError, TypeError, SyntaxError, ValueError, IndexError):
            _FUNCTION_TREES[code] = None
    return _FUNCTION_TREES[code]


_ALIASES_CACHE = {}


def _plain_aliases(code):
    """The (name, name) pairs of plain aliasing assignments (`b = a`) in a function's source."""
    found = _ALIASES_CACHE.get(code)
    if found is None:
        found = set()
        tree = _function_tree(code)
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found.add((target.id, node.value.id))
        _ALIASES_CACHE[code] = found
    return found


def _aliased_in_test(frame, value):
    """Whether the test's own code made the two compared names one object (`Wc = Wm`): two of
    the site frame's locals hold `value` and the function assigns one to the other."""
    names = [name for name, local in frame.f_locals.items() if local is value]
    if len(names) < 2:
        return False
    aliases = _plain_aliases(frame.f_code)
    return any((a, b) in aliases for a in names for b in names if a != b)


_LIBRARY_DIRS = None


def _is_compared_library(filename):
    """Whether `filename` is inside torch or numpy themselves."""
    global _LIBRARY_DIRS
    if _LIBRARY_DIRS is None:
        dirs = []
        for name in ("torch", "numpy"):
            module = sys.modules.get(name)
            path = getattr(module, "__file__", None)
            if path:
                dirs.append(os.path.dirname(os.path.abspath(path)) + os.sep)
        if "torch" not in sys.modules:
            return False  # decide once both can be known
        _LIBRARY_DIRS = tuple(dirs)
    return filename.startswith(_LIBRARY_DIRS)


def _test_file_suffix():
    test = _state.test
    if not test:
        return None
    if _state.suffix_for != test:
        path = test.split("::", 1)[0]
        _state.suffix_for, _state.suffix = test, os.sep + path.replace("/", os.sep)
        _state.function = test.rsplit("::", 1)[-1].split("[", 1)[0]
    return _state.suffix


_TEST_CODE_CACHE = {}


def _is_test_code(filename):
    """The test's own file, or a file on a path with a "test" component (tests/, testing.py,
    base_test_case.py, conftest.py, test_utils/)."""
    found = _TEST_CODE_CACHE.get(filename)
    if found is None:
        suffix = _test_file_suffix()
        parts = _relative(filename).replace("\\", "/").split("/")
        found = bool(suffix and filename.endswith(suffix)) or any(
            "test" in part.lower() for part in parts
        )
        _TEST_CODE_CACHE[filename] = found
    return found


def _locate(caller):
    """(site frame, helper frames): the site is the collected test function's own frame (the
    test's line), unless the comparison is in a callback of the test's file that library code
    called (then the callback's line), else the innermost frame in the test's file (a fixture, a
    nested function), else
    the test method's frame in a base class's file (an inherited test); the helper frames are those
    between the site and the comparison, outermost first: the helper the test's line called, down
    to the frame that made the call. A helper defined in the test's file is a helper too: its line
    is the same for every test line that calls it."""
    suffix = _test_file_suffix()
    if suffix is not None:
        frame, depth = caller, 0
        function = _state.function
        chain = []  # the frames walked so far, innermost first
        in_file = None  # the innermost frame in the test's file and the frames below it
        function_frame = None  # an inherited test method runs from its base class's file
        library_above = False  # a frame outside the tests between in_file and the test function
        while frame is not None and depth < 64:
            name = frame.f_code.co_filename
            if name.endswith(suffix) or name == suffix[1:]:
                if frame.f_code.co_name == function:
                    # A callback of the test's file that the library under test called (an ODE
                    # solver's grid constructor): its own line is the comparison's site.
                    return in_file if library_above else (frame, chain[::-1])
                if in_file is None:
                    in_file = frame, chain[::-1]
            elif function_frame is None and frame.f_code.co_name == function:
                function_frame = frame, chain[::-1]
            elif in_file is not None and not _is_test_code(name):
                library_above = True
            chain.append(frame)
            frame, depth = frame.f_back, depth + 1
        if in_file is not None:
            return in_file
        if function_frame is not None:
            return function_frame
    return caller, []


def _where(frame):
    return "%s:%d" % (_relative(frame.f_code.co_filename), frame.f_lineno)


_NEGATION_CACHE = {}
_NEGATED_LINE = re.compile(r"\bassert\s+not\b|\bassertFalse\s*\(")
_RAISES_ASSERTION = re.compile(r"^\s*with\b.*\b(raises|assertRaises)\s*\(\s*\(?\s*AssertionError\b")


def _negation(frame):
    """How the source at the site says the test wants the comparison to fail, or None:
    "assert not", "assertFalse", or "raises(AssertionError)" for a call inside such a block."""
    key = (frame.f_code.co_filename, frame.f_lineno)
    if key in _NEGATION_CACHE:
        return _NEGATION_CACHE[key]
    found = None
    filename, lineno = key
    line = linecache.getline(filename, lineno)
    match = _NEGATED_LINE.search(line)
    if match:
        found = "assertFalse" if "assertFalse" in match.group(0) else "assert not"
    else:
        indent = len(line) - len(line.lstrip())
        first = frame.f_code.co_firstlineno
        for number in range(lineno - 1, max(first, lineno - 40) - 1, -1):
            text = linecache.getline(filename, number)
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            level = len(text) - len(text.lstrip())
            if level >= indent:
                continue
            if _RAISES_ASSERTION.match(text):
                found = "raises(AssertionError)"
                break
            if text.lstrip().startswith(("def ", "async def ", "class ")):
                break
            indent = level
    _NEGATION_CACHE[key] = found
    return found


_GUARD_CACHE = {}
_CAUGHT = {"AssertionError", "Exception", "BaseException"}


def _catches_assertion_error(handler):
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    for name in names:
        if name is None:  # a bare `except:`
            return True
        if (getattr(name, "id", None) or getattr(name, "attr", None)) in _CAUGHT:
            return True
    return False


def _guarded(frame):
    """"try/except AssertionError at line N" when the frame's line is in the body of a try whose
    handler catches the comparison's failure (kornia: `try: assert_close(q1, q2) except
    AssertionError: assert_close(q1, -q2)`): a failure there runs the fallback instead of failing
    the test. None otherwise, or when the function's source cannot be read."""
    key = (frame.f_code, frame.f_lineno)
    if key in _GUARD_CACHE:
        return _GUARD_CACHE[key]
    found = None
    code = frame.f_code
    tree = _function_tree(code)
    line = frame.f_lineno - code.co_firstlineno + 1
    for node in ast.walk(tree) if tree is not None else ():
        if not isinstance(node, ast.Try) or not node.body:
            continue
        handlers = [h for h in node.handlers if _catches_assertion_error(h)]
        if handlers and node.body[0].lineno <= line <= node.body[-1].end_lineno:
            # As written (`except Exception`), and where: a helper's try is not in the test file.
            caught = ast.unparse(handlers[0].type) if handlers[0].type is not None and hasattr(
                ast, "unparse") else ""
            found = "try/except%s at %s:%d" % (" " + caught if caught else "",
                                               _relative(code.co_filename),
                                               node.lineno + code.co_firstlineno - 1)
            break
    _GUARD_CACHE[key] = found
    return found


_LOOP_CACHE = {}


def _in_loop(frame):
    """Whether the frame's line is in the body of a for or while loop of its function (julius's
    `for block_ratio in [1, 5, 10, 20]: self.assertSimilar(...)`): a run that fails there stops
    the loop, and the passes after the failing one go unmeasured."""
    return _first_node(frame, _LOOP_CACHE, lambda node, line: isinstance(
        node, (ast.For, ast.AsyncFor, ast.While)) and bool(node.body) and (
        node.body[0].lineno <= line <= node.body[-1].end_lineno)) is not None


_TOLERANCE_AT_SITE = re.compile(r"\b(%s)\s*=" % "|".join(_TOLERANCE_PARAMETERS))


_CALL_TEXT_CACHE = {}


def _call_text(filename, lineno):
    """The source from `lineno` until its brackets close (a call spread over lines, as black
    writes it: `assertAllClose(\n a,\n b,\n atol=2e-6,\n)`), at most 40 lines; comments and
    strings are blanked so their brackets and `atol=` do not count."""
    key = (filename, lineno)
    found = _CALL_TEXT_CACHE.get(key)
    if found is None:
        lines, depth = [], 0
        for number in range(lineno, lineno + 40):
            text = linecache.getline(filename, number)
            if not text:
                break
            code = _STRINGS_AND_COMMENTS.sub(_blank, text)
            lines.append(code)
            depth += sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")
            if depth <= 0:
                break
        found = _CALL_TEXT_CACHE[key] = "".join(lines)
    return found


_PASSED_CACHE = {}


def _passed_at_site(site_frame, helper_code):
    """{parameter: position} for the arguments the site's call of the helper passes: the index
    among the call's positional arguments as written, or -1 for a keyword; None when the call
    cannot be read (not a whole statement from the site's line, *args, no such call)."""
    key = (site_frame.f_code.co_filename, site_frame.f_lineno, helper_code)
    if key in _PASSED_CACHE:
        return _PASSED_CACHE[key]
    found = None
    try:
        import textwrap

        text = textwrap.dedent(_call_text(site_frame.f_code.co_filename, site_frame.f_lineno))
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name != helper_code.co_name:
                continue
            if any(isinstance(a, ast.Starred) for a in node.args) or any(
                    k.arg is None for k in node.keywords):
                break
            params = helper_code.co_varnames[: helper_code.co_argcount]
            # `self.helper(a, b)` binds self itself; `helper(self, a, b)` passes it.
            skip = 1 if isinstance(func, ast.Attribute) and params[:1] in (("self",), ("cls",)) else 0
            found = {params[i + skip]: i for i in range(len(node.args)) if i + skip < len(params)}
            found.update({k.arg: -1 for k in node.keywords})
            break
    except (SyntaxError, ValueError, IndexError):
        found = None
    _PASSED_CACHE[key] = found
    return found


def _blank(match):
    return "" if match.group(0).startswith("#") else '""'


_STRINGS_AND_COMMENTS = re.compile(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"|#.*")

_BARE_CALL = re.compile(r"^[A-Za-z_][\w.]*\(.*\)\s*(#.*)?$")


def _discards_result(frame):
    """Whether the statement at the frame's line is the call alone, its result thrown away
    (`torch.allclose(a, b)` with no assert). Read from the function's syntax tree, so that the
    inner line of `self.assertTrue(\n    torch.isclose(a, b)\n)` is not taken for a bare call;
    from the line alone when the source cannot be parsed."""
    key = (frame.f_code, frame.f_lineno)
    found = _DISCARDS_CACHE.get(key)
    if found is None:
        found = _DISCARDS_CACHE[key] = _discards_result_uncached(frame)
    return found


_DISCARDS_CACHE = {}


def _discards_result_uncached(frame):
    tree = _function_tree(frame.f_code)
    if tree is None:
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
        callee = line.split("(", 1)[0].lower()
        return bool(_BARE_CALL.match(line)) and "assert" not in callee and "expect" not in callee
    line = frame.f_lineno - frame.f_code.co_firstlineno + 1
    statement = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not isinstance(node, _COMPOUND_STATEMENTS) and (
                node.lineno <= line <= getattr(node, "end_lineno", node.lineno)):
            statement = node
            break
    if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
        return False
    callee = ast.unparse(statement.value.func).lower() if hasattr(ast, "unparse") else ""
    return "assert" not in callee and "expect" not in callee


_COMPOUND_STATEMENTS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For,
                        ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)


def _tolerance_names(api, bound):
    """The tolerance parameters the compared function takes (assert_close's are keyword-only)."""
    names = [p for p in getattr(api, "positional", ()) if p in _TOLERANCE_PARAMETERS]
    names += [k for k in bound if k in _TOLERANCE_PARAMETERS and k not in names]
    if getattr(api, "name", "").startswith("torch.testing.assert_"):
        names += [k for k in ("rtol", "atol") if k not in names]
    return names


def _varkeywords_name(code):
    """The name of a function's **kwargs parameter, or None."""
    if not code.co_flags & _CO_VARKEYWORDS:
        return None
    return code.co_varnames[code.co_argcount + code.co_kwonlyargcount
                            + (1 if code.co_flags & _CO_VARARGS else 0)]


def _forwards_keywords(helper, caller):
    """Whether the helper takes **kwargs and its comparison call (the caller of the compared
    function, in the helper itself) passes them on."""
    name = _varkeywords_name(helper.f_code)
    return helper is caller and name is not None and "**" + name in _call_text(
        helper.f_code.co_filename, caller.f_lineno).replace(" ", "")


def _forwarded_keywords(helper):
    """The helper's **kwargs dict at this call, or {}."""
    name = _varkeywords_name(helper.f_code)
    found = helper.f_locals.get(name) if name is not None else None
    return found if isinstance(found, dict) else {}


_CO_VARARGS, _CO_VARKEYWORDS = 0x04, 0x08  # inspect.CO_VARARGS, inspect.CO_VARKEYWORDS


def _site_fields(caller, api_kind=None, api_tolerances=()):
    site_frame, helpers = _locate(caller)
    fields = {"site": _where(site_frame)}
    # (A helper's loop too: backpack's check_sizes_and_values asserts parameter by parameter.)
    if any(_in_loop(frame) for frame in [site_frame] + helpers):
        fields["in_loop"] = True
    if helpers:
        # `via` is the helper the test's line called (its line there): the per-call override is
        # the one it accepts, and two comparisons inside it (a round trip, then its log-det) have
        # different `via` lines. Deeper helpers follow in `via_chain`.
        entry = helpers[0]
        code = entry.f_code
        fields["via"] = _where(entry)
        fields["via_function"] = code.co_name
        names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        accepts = fields["via_accepts"] = [n for n in names if n in _TOLERANCE_PARAMETERS]
        if len(helpers) == 1 and _forwards_keywords(entry, caller):
            # monai's `assert_allclose(actual, desired, *args, **kwargs)` hands its keywords on
            # to the comparison: the comparison's own tolerances are the per-call override.
            accepts += [n for n in api_tolerances if n not in accepts]
        # The value each tolerance parameter had in the helper: the one equal to the comparison's
        # atol is the per-call override to edit (captum's `delta=`), whatever its name.
        values = {}
        forwarded = _forwarded_keywords(entry) if len(helpers) == 1 else {}
        for name in accepts:
            value = entry.f_locals.get(name, forwarded.get(name))
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                values[name] = float(value)
        if values:
            fields["via_values"] = values
        if len(helpers) > 1:
            fields["via_chain"] = ["%s %s" % (_where(f), f.f_code.co_name) for f in helpers]
        passed = _passed_at_site(site_frame, code)
        if passed is None:  # the call's syntax could not be read: its keywords still tell
            statement = _call_text(site_frame.f_code.co_filename, site_frame.f_lineno)
            fields["tolerance_at"] = "site" if _TOLERANCE_AT_SITE.search(statement) else "via"
        else:
            given = {name: position for name, position in passed.items() if name in accepts}
            fields["tolerance_at"] = "site" if given else "via"
            if given:
                fields["via_passed"] = given
    if api_kind in ("predicate", "elementwise") and _discards_result(caller):
        fields["unchecked"] = True  # `check_equal(a, b)`: the result is thrown away
    # The test's line first, then the helpers from the comparison outwards: `assert not
    # helper(...)`, a helper returning `not torch.allclose(...)`, a raises block in between.
    negated = _negation(site_frame)
    for frame in reversed(helpers):
        if negated is not None:
            break
        negated = _negation(frame)
    if negated is not None:
        fields["negated"] = negated
    for frame in [site_frame] + helpers:
        guard = _guarded(frame)
        if guard is not None:
            fields["guarded"] = guard
            break
    return fields


_RELATIVE_CACHE = {}


def _relative(path):
    """`path` relative to the working directory (where the audit reads the sources), cached: a
    relpath per call was a quarter of the capture's cost."""
    found = _RELATIVE_CACHE.get(path)
    if found is None:
        try:
            rel = os.path.relpath(path)
        except ValueError:
            rel = ".."
        found = path if rel.startswith("..") else rel
        _RELATIVE_CACHE[path] = found
    return found


def _add_tolerance_definition(line, frame, bound=None):
    """Where the tolerance in force is defined, when the line at `frame` passes it by name
    (flakescope_tolerance_source): the fix edits that definition."""
    try:
        value = line.get("threshold") if line.get("api") == "threshold" else None
        for keyword in flakescope_tolerance_source.ATOL_KEYWORDS if value is None else ():
            given = (bound or {}).get(keyword)
            if isinstance(given, (int, float)) and not isinstance(given, bool):
                value = float(given)
                break
        if not isinstance(value, float):
            return
        found = flakescope_tolerance_source.definition(frame, value, _relative,
                                                       lambda: _locate(frame)[0])
        if found:
            line["tolerance_definition"] = found
    except Exception:
        pass  # never change the test's outcome


def _record(capture_path, api, caller, bound, result, exception, observed=None):
    line = {"test": _state.test, "api": api.name}
    try:
        line.update(_site_fields(caller, getattr(api, "kind", None), _tolerance_names(api, bound)))
    except Exception:
        line["site"] = _where(caller)
    try:
        if exception is not None and not isinstance(exception, Exception):
            return  # KeyboardInterrupt, SystemExit: not an assertion outcome
        if isinstance(api, _ThresholdApi):
            line.update(api.measure(bound, exception))
        elif observed is not None:
            line.update(api.measure(bound, result, exception, observed))
        else:
            _check(api, line, bound, result, exception)
    except Exception as exc:  # recording must never change the test's outcome
        line["error"] = "%s: %s" % (type(exc).__name__, exc)
        if "passed" not in line:
            line["passed"] = exception is None and (result is None or bool(_safe_bool(result)))
    _add_tolerance_definition(line, caller, bound)
    first = bound.get(getattr(api, "first", None))
    # (Python reuses one object for equal constants, `assertEqual(p.alpha, 0.1)`: values, not
    # aliasing.)
    if first is not None and first is bound.get(getattr(api, "second", None)) and not isinstance(
            first, (int, float, complex, str, bytes)):
        # One object against itself: only a NaN fails it. `np.allclose(Wm, Wc)` after `Wc = Wm`
        # is the test's own aliasing; `assertAllClose(mvn.covariance_matrix, covmat)` where the
        # library handed back covmat is by design (the line then tests identity, not values).
        try:
            aliased = (_passes_one_expression_twice(caller)
                       or _aliased_in_test(_locate(caller)[0], first))
        except Exception:
            aliased = False
        line["same_object" if aliased else "same_object_returned"] = True
    line["seed"] = _state.seed
    line["repeat"] = _state.repeat
    try:
        _append_line(capture_path, line)
    except Exception:
        pass  # an unwritable capture file must not fail the test either


def _check(api, line, bound, result, exception):
    """The call's own outcome, why it failed, and its measurements."""
    if api.kind == "predicate":
        passed = exception is None and bool(result)
        if exception is None:
            line["returned"] = bool(result)
    elif api.kind == "elementwise":
        passed = exception is None and bool(result.all())
        if exception is None:
            line["returned"] = passed
    else:
        passed = exception is None
    line["passed"] = passed
    if api.exact:
        line["exact"] = True
    if exception is not None and not isinstance(exception, AssertionError):
        # The call itself was invalid (bad arguments, unsupported types): no tolerance fixes it.
        line["exception"] = "%s: %s" % (type(exception).__name__, str(exception).split("\n")[0])
    kind = _failure_kind(api, bound, exception) if not passed else None
    if kind is not None:
        line["failure_kind"], line["failure_detail"] = kind
    if kind is not None and kind[0] == "shape":
        return  # nothing element-wise to measure
    line.update(_measure(api, bound))
    if not passed and kind is None:
        nonfinite = line.get("nonfinite_mismatch")
        line["failure_kind"] = "nonfinite" if nonfinite else "values"
        if nonfinite:
            line["failure_detail"] = "NaN/Inf positions differ"


_ATTRIBUTE_MISMATCH = re.compile(r"The values for attribute '(\w+)' do not match: (.*?)\.?$", re.M)


def _failure_kind(api, bound, exception):
    """(kind, detail) for a failure no tolerance fixes (dtype, shape, device, exception), or None
    for one that the values decide."""
    text = str(exception) if exception is not None else ""
    match = _ATTRIBUTE_MISMATCH.search(text)
    if match:  # assert_close says exactly which attribute differs
        attribute, values = match.group(1), match.group(2).replace("torch.", "")
        return attribute, "%s %s" % (attribute, values)
    a, e = bound.get(api.first), bound.get(api.second)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(a, torch.Tensor) and isinstance(e, torch.Tensor):
        if a.device != e.device:
            return "device", "device %s != %s" % (a.device, e.device)
        if api.checks_dtype and a.dtype != e.dtype:
            return "dtype", "dtype %s != %s" % (str(a.dtype)[6:], str(e.dtype)[6:])
    if exception is not None and not isinstance(exception, AssertionError):
        return "exception", "%s: %s" % (type(exception).__name__, text.split("\n")[0][:200])
    import numpy as np

    try:
        sa, se = np.shape(a), np.shape(e)
    except Exception:
        return None
    if sa != se:
        try:
            np.broadcast_shapes(sa, se)
            broadcastable = api.name not in ("torch.testing.assert_close",
                                             "torch.testing.assert_allclose")
        except ValueError:
            broadcastable = False
        if not broadcastable:
            return "shape", "shape %s != %s" % (list(sa), list(se))
    return None


def _safe_bool(value):
    try:
        return bool(value)
    except Exception:
        return True


def _measure(api, bound):
    actual = bound.get(api.first)
    expected = bound.get(api.second)
    equal_nan = bound.get("equal_nan", api.equal_nan_default)
    if equal_nan is None:
        equal_nan = api.equal_nan_default
    is_assert_close = api.name == "torch.testing.assert_close"
    if not is_assert_close or (_is_array(actual) and _is_array(expected)):
        leaves = [(actual, expected)]  # (what _leaf_pairs yields for two tensors or arrays)
    else:
        leaves = list(_leaf_pairs(actual, expected))

    rtol_atol = []
    totals = _Totals()
    shape, dtype = None, None
    for leaf_actual, leaf_expected in leaves:
        # The usual pair (dense CPU floats of one shape) is measured in place by the native
        # library; anything else goes through numpy. The numbers are the same.
        dense = flakescope_native.dense_pair(leaf_actual, leaf_expected)
        if dense is not None:
            a_dtype, e_dtype, leaf_shape = dense.actual_dtype, dense.expected_dtype, dense.shape
        else:
            a, a_dtype = _to_numpy(leaf_actual)
            e, e_dtype = _to_numpy(leaf_expected)
            leaf_shape = a.shape
        given = api.tolerances(bound)
        if given is None:
            rtol, atol = _torch_defaults(a_dtype, e_dtype, table=api.default_table)
        elif given[0] is None or given[1] is None:
            raise ValueError("only one of rtol and atol given")  # assert_close rejects it too
        else:
            rtol, atol = given
        rtol, atol = float(rtol), float(atol)
        rtol_atol.append((rtol, atol))
        if shape is None:
            shape, dtype = list(leaf_shape), a_dtype
        if dense is not None:
            totals.add_dense(dense, rtol, atol, bool(equal_nan))
        else:
            totals.add(a, e, rtol, atol, bool(equal_nan))
    line = {
        "shape": shape if len(leaves) == 1 else [totals.count],
        "dtype": dtype,
        "rtol": rtol_atol[0][0] if rtol_atol else None,
        "atol": rtol_atol[0][1] if rtol_atol else None,
    }
    if "decimal" in api.positional:
        line["decimal"] = int(_given(bound, "decimal", 6 if "array" in api.name else 7))
    if api.name == "unittest.assertAlmostEqual":
        if bound.get("delta") is not None:
            line["delta"] = float(bound["delta"])
        else:
            line["places"] = int(_given(bound, "places", 7))
    if len(leaves) != 1:
        line["leaves"] = len(leaves)
    if len(set(rtol_atol)) > 1:
        line["mixed_tolerances"] = True
    line.update(totals.as_json())
    return line


# --------------------------------------------------------------------------------------------
# Threshold comparisons: `assert deviation < 1e-3`, `self.assertLess(diff, tol)`


def _scalar(value):
    """A float for a Python/numpy number or a one-element tensor/array, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    torch = sys.modules.get("torch")
    try:
        if torch is not None and isinstance(value, torch.Tensor):
            return float(value.detach().cpu().double().item()) if value.numel() == 1 else None
        numpy = sys.modules.get("numpy")
        if numpy is not None and isinstance(value, (numpy.ndarray, numpy.generic)):
            return float(value.item()) if value.size == 1 and value.dtype.kind in "fiu" else None
    except Exception:
        return None
    return None


def _threshold_fields(op, left, right, passed):
    """The capture line of `left OP right` where one side is the deviation and the other its
    bound: for < and <= the bound is on the right (`diff < tol`), for > and >= as well
    (`similarity > 0.999`: the value must stay above)."""
    below = op in ("<", "<=")
    value, bound = left, right
    fields = {"op": op, "value": _json_number(value), "threshold": _json_number(bound),
              "direction": "below" if below else "above", "passed": passed, "rtol": 0.0,
              "atol": _json_number(bound), "dtype": None, "shape": []}
    if below:
        fields.update({"max_abs": _json_number(abs(value)), "max_rel": 0.0,
                       "atol_needed": _json_number(max(0.0, value)),
                       "margin": _json_number(value - bound)})
    else:
        fields["margin"] = _json_number(bound - value)
    fields["nonfinite_mismatch"] = not math.isfinite(value)
    if not passed:
        fields["failure_kind"] = "nonfinite" if not math.isfinite(value) else "values"
    return fields


def _equality_fields(left, right):
    """The capture line of `left == right` on two numbers: an exact check, measured by how far
    apart they were."""
    difference = abs(left - right) if math.isfinite(left) and math.isfinite(right) else math.inf
    passed = left == right
    fields = {"exact": True, "passed": passed, "rtol": 0.0, "atol": 0.0, "dtype": None,
              "shape": [], "max_abs": _json_number(difference),
              "max_rel": _json_number(difference / abs(right) if right else 0.0),
              "atol_needed": _json_number(difference), "margin": _json_number(difference),
              "nonfinite_mismatch": math.isfinite(left) != math.isfinite(right)}
    if not passed:
        fields["failure_kind"] = "nonfinite" if fields["nonfinite_mismatch"] else "values"
    return fields


def _takes_all(frame):
    """Whether the statement at the frame's line takes all() of an element-wise comparison
    (`assert (d < eps).all()`, `torch.all(...)`, `np.all(...)`), and no any(): only then is the
    comparison a bound on every element."""
    text = _call_text(frame.f_code.co_filename, frame.f_lineno)
    return "all(" in text and "any(" not in text


def _elementwise_equality_fields(left, right):
    """The capture line of an element-wise `left == right` of float tensors or arrays (or one of
    them and a number) taken whole: an exact check, measured by the largest difference; None for
    anything else (integers, booleans, lists, mismatched shapes)."""
    torch = sys.modules.get("torch")
    numpy = sys.modules.get("numpy")

    def floats(value):
        if torch is not None and isinstance(value, torch.Tensor):
            return value.detach().cpu().double() if value.is_floating_point() else None
        if numpy is not None and isinstance(value, numpy.ndarray):
            return value.astype("float64") if value.dtype.kind == "f" else None
        number = _scalar(value)
        return number if number is not None and not _integral(value) else None

    a, b = floats(left), floats(right)
    if a is None and b is None:
        return None
    a = a if a is not None else _scalar(left)
    b = b if b is not None else _scalar(right)
    if a is None or b is None:
        return None
    try:
        if torch is not None and (isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor)):
            a = a if isinstance(a, torch.Tensor) else torch.tensor(a, dtype=torch.float64)
            b = b if isinstance(b, torch.Tensor) else torch.tensor(b, dtype=torch.float64)
            difference = (a - b).abs()
            if difference.numel() == 0:
                return None
            nonfinite = bool((~torch.isfinite(difference)).any())
            largest = float(difference[torch.isfinite(difference)].max()) if not nonfinite else math.inf
            scale = float(b.abs().max()) if b.numel() else 0.0
        else:
            difference = numpy.abs(numpy.asarray(a, dtype="float64") - numpy.asarray(b, dtype="float64"))
            if difference.size == 0:
                return None
            nonfinite = not bool(numpy.isfinite(difference).all())
            largest = math.inf if nonfinite else float(difference.max())
            scale = float(numpy.abs(numpy.asarray(b)).max())
    except Exception:
        return None  # shapes that do not broadcast: the comparison itself raised
    passed = largest == 0 and not nonfinite
    library = "torch" if torch is not None and (
        isinstance(left, torch.Tensor) or isinstance(right, torch.Tensor)) else "numpy"
    fields = {"exact": True, "passed": passed, "rtol": 0.0, "atol": 0.0, "dtype": None,
              "library": library,
              "shape": list(difference.shape), "max_abs": _json_number(largest),
              "max_rel": _json_number(largest / scale if scale and math.isfinite(largest) else 0.0),
              "atol_needed": _json_number(largest), "margin": _json_number(largest),
              "nonfinite_mismatch": nonfinite}
    if not passed:
        fields["failure_kind"] = "nonfinite" if nonfinite else "values"
    return fields


def _extreme_element(values, op):
    """The element of a float tensor or array that decides `values OP bound` for every element:
    the largest for < and <=, the smallest for > and >= (NaN when one is NaN); None for anything
    else (counts, booleans, lists)."""
    torch = sys.modules.get("torch")
    numpy = sys.modules.get("numpy")
    below = op in ("<", "<=")
    try:
        if torch is not None and isinstance(values, torch.Tensor):
            if not values.is_floating_point() or values.numel() == 0:
                return None
            v = values.detach()
            if bool(v.isnan().any()):
                return math.nan
            return float((v.max() if below else v.min()).double().item())
        if numpy is not None and isinstance(values, numpy.ndarray):
            if values.dtype.kind != "f" or values.size == 0:
                return None
            return float(numpy.max(values) if below else numpy.min(values))
    except Exception:
        return None
    return None


_UNITTEST_CAPTURE_PATH = None  # set while the capture is on (AssertionHooks)


def _unittest_comparison(op, left, right, wanted):
    """`left OP right` for `self.assertTrue(left OP right)` (wanted True) or assertFalse (wanted
    False), rewritten by flakescope_unittest_compare: returns what the comparison returns, and
    captures it as a threshold when both sides are numbers."""
    result = _OPERATORS[op](left, right)
    if _UNITTEST_CAPTURE_PATH is not None and not _state.recording:
        _capture_unittest_comparison(sys._getframe(1), op, left, right, result, wanted)
    return result


def _capture_unittest_comparison(frame, op, left, right, result, wanted):
    try:
        a, b = _scalar(left), _scalar(right)
        if a is None or b is None or (_integral(left) and _integral(right)):
            return
        passed = bool(result) == wanted
        op = op if wanted else _COMPLEMENT[op]  # assertFalse(d > t) is d <= t
        if _bound_on_the_left(frame, a, b):
            fields = _threshold_fields(_MIRRORED[op], b, a, passed)
        else:
            fields = _threshold_fields(op, a, b, passed)
        line = {"test": _state.test, "api": "threshold"}
        line.update(_site_fields(frame))
        line.update(fields)
        _add_tolerance_definition(line, frame)
        line["seed"], line["repeat"] = _state.seed, _state.repeat
        _append_line(_UNITTEST_CAPTURE_PATH, line)
    except Exception:
        pass  # never change the test's outcome


def _unittest_elementwise(op, left, right):
    """`left OP right` inside `self.assertTrue((left OP right).all())` (flakescope_unittest_compare):
    returns the element-wise result unchanged, and captures it as a threshold measured by the
    element that decides it when one side is a number and the other floats."""
    result = _OPERATORS[op](left, right)
    if _UNITTEST_CAPTURE_PATH is None or _state.recording:
        return result
    try:
        a, b = _scalar(left), _scalar(right)
        if (a is None) == (b is None):
            if a is not None:  # a one-element tensor: a number, and .all() is its truth
                _capture_unittest_comparison(sys._getframe(1), op, left, right, result, True)
            return result
        # A number on the left is the bound: `(-eps < d).all()` is `d > -eps`.
        op, values, bound = (op, left, b) if a is None else (_MIRRORED[op], right, a)
        extreme = _extreme_element(values, op)
        if extreme is None:
            return result
        line = {"test": _state.test, "api": "threshold"}
        frame = sys._getframe(1)
        line.update(_site_fields(frame))
        line.update(_threshold_fields(op, extreme, bound, bool(_OPERATORS[op](extreme, bound))))
        _add_tolerance_definition(line, frame)
        line["seed"], line["repeat"] = _state.seed, _state.repeat
        _append_line(_UNITTEST_CAPTURE_PATH, line)
    except Exception:
        pass  # never change the test's outcome
    return result


class _ThresholdApi:
    """unittest's assertLess & co. on two numbers: first OP second."""

    def __init__(self, op):
        self.op = op
        self.name = "threshold"
        self.kind = "raises"
        self.exact = False
        self.positional = ["self", "first", "second"]
        self.first, self.second = "first", "second"

    def wants(self, bound):
        return _compares_a_deviation(bound)

    def bind(self, args, kwargs):
        bound = dict(zip(self.positional, args))
        bound.update(kwargs)
        return bound

    def measure(self, bound, exception):
        left, right = _scalar(bound.get("first")), _scalar(bound.get("second"))
        return _threshold_fields(self.op, left, right, exception is None)


class AssertionHooks:
    """pytest's assertion machinery as a capture source for plain comparisons of a computed
    deviation with a number (`assert (a - b).abs().max() < 1e-3`): with the assertion-pass hook
    enabled, pytest's rewritten asserts format their explanation on pass as well as on failure, and
    that formatting hands each comparison's two values to pytest_assertrepr_compare. Registered by
    the pytest plugin when capture is on."""

    def __init__(self, config, capture_path):
        self.capture_path = capture_path
        # Only asserts rewritten from now on call the pass hook, and a cached rewrite from a run
        # without it would not: rewrite the test modules afresh.
        config._inicache["enable_assertion_pass_hook"] = True
        try:
            from _pytest.assertion import rewrite

            rewrite._read_pyc = lambda *args, **kwargs: None
            # Nor cached: a module rewritten for the capture (its assertTrue comparisons call
            # flakescope_capture) must never be what a later plain pytest run loads.
            rewrite._write_pyc = lambda *args, **kwargs: False
        except Exception:
            pass
        _rewrite_testing_helpers()
        global _UNITTEST_CAPTURE_PATH
        _UNITTEST_CAPTURE_PATH = capture_path
        self._undo_unittest_compare = flakescope_unittest_compare.install()
        # A passing assert's explanation is not formatted when nobody but us reads it.
        self._undo_pass_formatting = flakescope_pass_formatting.install(
            config, self, lambda op, left, right: self.pytest_assertrepr_compare(config, op, left, right))

    def pytest_assertion_pass(self, item, lineno, orig, expl):
        """Implemented so that pytest formats the explanation of passing asserts too, which is
        where it calls the comparison-repr hook below with the compared values."""

    def pytest_runtest_setup(self, item):
        flakescope_pass_formatting.close()

    def pytest_unconfigure(self, config):
        if self._undo_unittest_compare is not None:
            self._undo_unittest_compare()
            self._undo_unittest_compare = None
        if self._undo_pass_formatting is not None:
            self._undo_pass_formatting()
            self._undo_pass_formatting = None

    def pytest_assertrepr_compare(self, config, op, left, right):
        if _state.recording:
            return None
        if op == "==" and _approx_expected(left) is not None:  # `pytest.approx(...) == actual`
            left, right = right, left
        if op == "==" and _approx_expected(right) is not None:  # `actual == pytest.approx(...)`
            self._record_line("pytest.approx", lambda frame: _approx_fields(left, right),
                              "_call_reprcompare")
            return None
        if op == "==":
            a, b = _scalar(left), _scalar(right)
            if a is not None and b is not None and not (_integral(left) and _integral(right)):
                # `assert measure == 36.0` (piq): an exact check of a computed number.
                self._record_line("==", lambda frame: _equality_fields(a, b),
                                  "_call_reprcompare")
            elif a is None or b is None:
                # `assert (a == b).all()`, `(J == 0).all()` (zuko): element-wise exact.
                self._record_line(
                    "==", lambda frame: _elementwise_equality_fields(left, right)
                    if _takes_all(frame) else None, "_call_reprcompare")
            return None
        if op not in _OPERATORS:
            return None
        a, b = _scalar(left), _scalar(right)
        if a is not None and b is not None and not (_integral(left) and _integral(right)):
            self._record(op, a, b, bool(_OPERATORS[op](a, b)), "_call_reprcompare")
        elif (a is None) != (b is None):
            # `assert (d < 1e-5).all()`: an element-wise comparison with one number, measured by
            # its extreme element (the largest for < and <=, the smallest for > and >=).
            # A number on the left is the bound: `(-eps < d).all()` is `d > -eps`.
            op, values, bound = (op, left, b) if a is None else (_MIRRORED[op], right, a)
            extreme = _extreme_element(values, op)
            if extreme is not None:
                self._record(op, extreme, bound, bool(_OPERATORS[op](extreme, bound)),
                             "_call_reprcompare", wants_all=True)
        return None

    def _record(self, op, left, right, passed, entry_point, wants_all=False):
        def fields(frame):
            if wants_all and not _takes_all(frame):
                return None  # `(d < eps).any()`, `.sum()`: not a bound on every element
            # `assert 0.4 < y.min()`: the bound is the literal on the left; the value is y.min().
            if _bound_on_the_left(frame, left, right):
                return _threshold_fields(_MIRRORED[op], right, left, passed)
            return _threshold_fields(op, left, right, passed)

        self._record_line("threshold", fields, entry_point)

    def _record_line(self, api, fields, entry_point):
        frame = sys._getframe(2)
        while frame is not None and frame.f_code.co_name != entry_point:
            frame = frame.f_back
        # pytest's helper wrapped by flakescope_pass_formatting's namesake: the outer one is
        # called from the test.
        while frame is not None and frame.f_back is not None and (
                frame.f_back.f_code.co_name == entry_point):
            frame = frame.f_back
        if frame is None or frame.f_back is None:
            return
        line = {"test": _state.test, "api": api}
        try:
            measured = fields(frame.f_back)
            if measured is None:
                return  # not numbers (approx of strings, of None): not a tolerance check
            line.update(_site_fields(frame.f_back))
            line.update(measured)
            _add_tolerance_definition(line, frame.f_back)
            if line.get("negated") == "assert not" and api == "threshold":
                _complement_threshold(line, frame.f_back)
            line["seed"], line["repeat"] = _state.seed, _state.repeat
            _append_line(self.capture_path, line)
        except Exception:
            pass  # never change the test's outcome


# Libraries whose testing modules are captured by patching their functions, or are too big to
# rewrite on every run (torch.testing._internal).
_NOT_REWRITTEN = {"torch", "numpy", "scipy", "pytest", "_pytest", "pluggy", "unittest", "jax",
                  "tensorflow", "hypothesis", "flakescope_capture", "flakescope_pytest"}


def _is_testing_helper_module(name):
    """A module whose name has a "test" component (tests.common, monai's tests.utils,
    gpytorch.test.base_test_case, e3nn.util.test) outside the libraries in _NOT_REWRITTEN."""
    parts = name.split(".")
    if parts[0] in _NOT_REWRITTEN or parts[0].startswith(("pytest", "_pytest")):
        return False  # pytest itself and its plugins (pytest_mock, pytest_rerunfailures)
    return any("test" in part.lower() for part in parts)


def _rewrite_testing_helpers():
    """pytest rewrites the asserts of test files and conftests only: a helper module's
    `assert max_err <= prec` (pyro's tests/common.py) stayed a bare assert the capture never saw,
    while the same helper's NaN-mask check was seen, and the site read "never differed". Such
    modules are rewritten too (their asserts keep their meaning)."""
    try:
        from _pytest.assertion.rewrite import AssertionRewritingHook
    except Exception:
        return
    for hook in sys.meta_path:
        marked = getattr(hook, "_is_marked_for_rewrite", None)
        if not isinstance(hook, AssertionRewritingHook) or marked is None:
            continue
        if getattr(marked, "__flakescope_original__", None) is not None:
            continue

        def is_marked(name, state, original=marked):
            return original(name, state) or _is_testing_helper_module(name)

        is_marked.__flakescope_original__ = marked
        hook._is_marked_for_rewrite = is_marked


_OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_COMPLEMENT = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}  # a OP b is b MIRRORED[OP] a
_LEFT_LITERALS = {}  # (file, line) -> the numbers written on the left of a comparison there


def _number_literal(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(
            node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _number_literal(node.operand)
        return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
    return None


def _bound_on_the_left(frame, left, right):
    """Whether the statement at the frame's line compares a number literal on the left with an
    expression on the right (`0.4 < y.min()`, the lower half of `-1 <= x <= 0`), and `left` is
    that literal: then the literal is the bound and `right` the value."""
    key = (frame.f_code.co_filename, frame.f_lineno)
    literals = _LEFT_LITERALS.get(key)
    if literals is None:
        literals = set()
        try:
            text = _call_text(*key).strip()
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.Compare):
                    operands = [node.left] + list(node.comparators)
                    for a, b in zip(operands, operands[1:]):
                        value = _number_literal(a)
                        if value is not None and _number_literal(b) is None:
                            literals.add(value)
        except (SyntaxError, ValueError):
            pass
        _LEFT_LITERALS[key] = literals
    return left in literals and right not in literals
_NOT_OF_ONE_COMPARISON = {}  # (file, line) -> whether the assert there is `not <a OP b>`


def _asserts_not_of_one_comparison(frame):
    """Whether the statement at the frame's line is `assert not <x OP y>` (one comparison,
    parenthesized or not), read from the source; False when the line is not a whole statement."""
    key = (frame.f_code.co_filename, frame.f_lineno)
    found = _NOT_OF_ONE_COMPARISON.get(key)
    if found is None:
        import ast

        text = linecache.getline(*key).strip()
        try:
            (statement,) = ast.parse(text).body
            test = statement.test if isinstance(statement, ast.Assert) else None
            found = (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
                     and isinstance(test.operand, ast.Compare) and len(test.operand.ops) == 1)
        except (SyntaxError, ValueError):
            found = False
        _NOT_OF_ONE_COMPARISON[key] = found
    return found


def _complement_threshold(line, frame):
    """`assert not (d > 0.97)` is `assert d <= 0.97`: a threshold with the complementary operator,
    not a check that wants two values apart."""
    if not _asserts_not_of_one_comparison(frame):
        return
    op = _COMPLEMENT[line["op"]]
    value, threshold = line["value"], line["threshold"]
    if not isinstance(value, float) or not isinstance(threshold, float):
        return
    passed = not line["passed"]
    del line["negated"]
    line.update(_threshold_fields(op, value, threshold, passed))


def _approx_expected(value):
    """The expected values of a pytest.approx object, else None."""
    approx_base = getattr(sys.modules.get("_pytest.python_api"), "ApproxBase", None)
    if approx_base is None or not isinstance(value, approx_base):
        return None
    return getattr(value, "expected", None)


def _approx_tolerances(approx):
    """(rel, abs) in force, as pytest's ApproxScalar.tolerance reads them: abs defaults to 1e-12;
    rel to 1e-6, unless only abs was given (then rel is not used: 0)."""
    rel, absolute = getattr(approx, "rel", None), getattr(approx, "abs", None)
    abs_tol = 1e-12 if absolute is None else float(absolute)
    if rel is None and absolute is not None:
        return 0.0, abs_tol
    return (1e-6 if rel is None else float(rel)), abs_tol


def _approx_pairs(actual, expected):
    """(actual, expected) as two float64 arrays of the same shape, mappings paired by key; None
    when they are not numbers."""
    import collections.abc as abc

    np = _np()
    if isinstance(expected, abc.Mapping):
        if not isinstance(actual, abc.Mapping) or set(actual) != set(expected):
            return None
        keys = list(expected)
        actual, expected = [actual[k] for k in keys], [expected[k] for k in keys]
    try:
        a = np.asarray(actual, dtype=np.float64)
        e = np.asarray(expected, dtype=np.float64)
        if a.shape != e.shape:
            a, e = np.broadcast_arrays(a, e)  # approx(scalar) against an array
    except (TypeError, ValueError):
        return None
    return a, e


def _approx_fields(actual, approx):
    """The capture line of `actual == approx(expected, rel, abs)`. approx passes an element when
    |a - e| <= max(rel |e|, abs), so the abs an element needs is 0 when rel |e| covers it and
    |a - e| otherwise: atol_needed is their largest, margin the largest excess over the bound."""
    pairs = _approx_pairs(actual, approx.expected)
    if pairs is None:
        return None
    a, e = pairs
    np = _np()
    rel, abs_tol = _approx_tolerances(approx)
    nan_ok = bool(getattr(approx, "nan_ok", False))
    saved = _ignore_floating_point_errors(np)
    try:
        finite = np.isfinite(a) & np.isfinite(e)
        same = (a == e) | (np.isnan(a) & np.isnan(e) & nan_ok)
        nonfinite_mismatch = bool((~finite & ~same).any())
        diff = np.abs(a - e)[finite]
        scale = np.abs(e)[finite]
        needed = np.where(diff <= rel * scale, 0.0, diff)
        bound = np.maximum(rel * scale, abs_tol)
        largest = lambda x: float(x.max()) if x.size else 0.0  # noqa: E731
        max_abs, atol_needed = largest(diff), largest(needed)
        margin = largest(diff - bound) if diff.size else -abs_tol
        nonzero = scale > 0
        max_rel = largest(diff[nonzero] / scale[nonzero])
    finally:
        _restore_floating_point_errors(np, saved)
    passed = bool(actual == approx)
    if nonfinite_mismatch:
        atol_needed = margin = math.inf
    fields = {"rtol": rel, "atol": abs_tol, "dtype": "float64", "shape": list(a.shape),
              "max_abs": _json_number(max_abs), "max_rel": _json_number(max_rel),
              "margin": _json_number(margin), "atol_needed": _json_number(max(0.0, atol_needed)),
              "nonfinite_mismatch": nonfinite_mismatch, "passed": passed}
    if not passed:
        fields["failure_kind"] = "nonfinite" if nonfinite_mismatch else "values"
    return fields


def _leaf_pairs(actual, expected):
    """assert_close compares sequences and mappings element by element."""
    import collections.abc as abc

    if isinstance(actual, abc.Mapping) and isinstance(expected, abc.Mapping):
        for key in actual:
            if key in expected:
                yield from _leaf_pairs(actual[key], expected[key])
        return
    sequence = (abc.Sequence,)
    if (
        isinstance(actual, sequence)
        and isinstance(expected, sequence)
        and not isinstance(actual, (str, bytes))
        and not isinstance(expected, (str, bytes))
    ):
        for a, e in zip(actual, expected):
            yield from _leaf_pairs(a, e)
        return
    yield actual, expected


def _torch_defaults(*dtypes, table=_TORCH_DEFAULT_TOLERANCES):
    rtol = atol = 0.0
    for dtype in dtypes:
        pair = table.get(dtype)
        if pair is not None:
            rtol, atol = max(rtol, pair[0]), max(atol, pair[1])
    return rtol, atol


_TORCH_DTYPE_NAMES = {}  # torch.float32 -> "float32"
_TORCH_READABLE = None  # torch dtype -> what numpy's view of a CPU tensor of it is widened to


def _to_numpy(value):
    """(array, dtype name as torch spells it) for a tensor, array or number. The array is real
    floating point as given (float16/32/64: the statistics widen it to float64 as they compute,
    exactly), or else widened to float64 or complex128."""
    global _TORCH_READABLE
    np = _np()
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        dtype = _TORCH_DTYPE_NAMES.get(value.dtype)
        if dtype is None:
            dtype = _TORCH_DTYPE_NAMES[value.dtype] = str(value.dtype).replace("torch.", "")
        if _TORCH_READABLE is None:
            _TORCH_READABLE = {torch.float16: None, torch.float32: None, torch.float64: None,
                               torch.complex64: np.complex128, torch.complex128: np.complex128}
        # The usual tensor (dense, on the CPU, a dtype numpy has) is read in place: torch's
        # .to(float64) cost a third of the capture, and widening gives the same numbers
        # wherever it happens. Views numpy cannot read (conjugate or negative bit) take the
        # general path below.
        if value.dtype in _TORCH_READABLE and value.is_cpu and value.layout == torch.strided:
            try:
                array = value.detach().numpy()
            except (RuntimeError, TypeError):
                pass
            else:
                wide = _TORCH_READABLE[value.dtype]
                return (array if wide is None else array.astype(wide, copy=False)), dtype
        tensor = value.detach()
        if tensor.layout != torch.strided:
            tensor = tensor.to_dense()
        if tensor.is_quantized:
            tensor = tensor.dequantize()
        tensor = tensor.cpu()
        wide = torch.complex128 if tensor.is_complex() else torch.float64
        return tensor.to(wide).numpy(), dtype
    if type(value) in _PYTHON_NUMBER_DTYPES:
        dtype = _PYTHON_NUMBER_DTYPES[type(value)]
    else:
        dtype = None
    array = np.asarray(value)
    if dtype is None:
        dtype = array.dtype.name
    if array.dtype.kind == "f":
        return array, dtype
    wide = np.complex128 if np.iscomplexobj(array) else np.float64
    return array.astype(wide), dtype


def _ignore_floating_point_errors(np):
    """Turns numpy's floating-point error handling off while the statistics are computed and
    returns what restores it: the capture must not add warnings to the test's output (inf - inf,
    an overflowing ratio), nor lose its measurement to -W error. numpy 1.x: the per-thread error
    object, set directly (np.errstate costs ten times as much there); numpy 2: np.errstate."""
    if hasattr(np, "seterrobj"):
        saved = np.geterrobj()
        np.seterrobj([saved[0], 0, saved[2]])  # error mask 0: ignore every kind
        return saved
    context = np.errstate(all="ignore")
    context.__enter__()
    return context


def _restore_floating_point_errors(np, saved):
    if hasattr(np, "seterrobj"):
        np.seterrobj(saved)
    else:
        saved.__exit__(None, None, None)


class _Totals:
    """The capture line's statistics, accumulated over the compared leaves."""

    def __init__(self):
        self.count = 0
        self.max_abs = 0.0
        self.max_rel = 0.0
        self.margin = -math.inf
        self.atol_needed = 0.0
        self.nonfinite_mismatch = False

    def add(self, a, e, rtol, atol, equal_nan):
        np = _np()
        if a.shape != e.shape:  # (broadcast_arrays returns same-shaped arrays as they are)
            a, e = np.broadcast_arrays(a, e)
        self.count += a.size
        if a.size == 0:
            return
        saved = _ignore_floating_point_errors(np)
        try:
            self._add(np, a, e, rtol, atol, equal_nan)
        finally:
            _restore_floating_point_errors(np, saved)

    def add_dense(self, dense, rtol, atol, equal_nan):
        """The native measurement of a flakescope_native.DensePair, combined as add() combines."""
        self.count += dense.count
        if dense.count == 0:
            return
        largest, relative, margin, needed, no_finite, no_relative, mismatch = dense.measure(
            rtol, atol, equal_nan)
        if mismatch:
            self.nonfinite_mismatch = True
        if no_finite:
            return
        self.max_abs = max(self.max_abs, largest)
        if not no_relative:
            self.max_rel = max(self.max_rel, relative)
        self.margin = max(self.margin, margin)
        self.atol_needed = max(self.atol_needed, needed)

    def _add(self, np, a, e, rtol, atol, equal_nan):
        f64 = np.float64
        if a.dtype.kind == "f" and e.dtype.kind == "f":
            # The usual call compares finite real numbers. Then |a - e| has a finite largest
            # element (a NaN or an infinity on either side makes it NaN or infinite), and the
            # statistics need no masks, no boolean indexing and no separate finiteness test:
            # each numpy call costs a microsecond or more right after the compared library's
            # own call has filled the caches. The ufuncs widen float16/32 to float64 exactly,
            # so the numbers are those of widening first.
            diff = np.absolute(np.subtract(a, e, dtype=f64))
            largest = float(np.maximum.reduce(diff, axis=None))
            if largest - largest == 0.0:
                self._add_finite(diff, np.absolute(e, dtype=f64), rtol, atol, largest)
                return
        if a.dtype.kind == "f" and a.dtype != f64:
            a = a.astype(f64)
        if e.dtype.kind == "f" and e.dtype != f64:
            e = e.astype(f64)
        finite = np.isfinite(a) & np.isfinite(e)
        # Non-finite elements match when they are equal (same infinity, or NaN with equal_nan).
        nonfinite = ~finite
        if nonfinite.any():
            an, en = a[nonfinite], e[nonfinite]
            same = an == en
            if equal_nan:
                same |= np.isnan(an) & np.isnan(en)
            if not same.all():
                self.nonfinite_mismatch = True
        if finite.any():
            af, ef = a[finite], e[finite]
            diff = np.abs(af - ef)
            self._add_finite(diff, np.abs(ef), rtol, atol, float(np.maximum.reduce(diff, axis=None)))

    def _add_finite(self, diff, scale, rtol, atol, largest_diff):
        np = _np()
        largest = np.maximum.reduce  # ndarray.max without its Python-level wrapper
        self.max_abs = max(self.max_abs, largest_diff)
        # scale = |e| >= 0: no zero in it when its smallest element is positive
        if np.minimum.reduce(scale, axis=None) > 0:
            self.max_rel = max(self.max_rel, float(largest(diff / scale, axis=None)))
        else:
            nonzero = scale != 0
            if nonzero.any():
                self.max_rel = max(self.max_rel, float(largest(diff[nonzero] / scale[nonzero], axis=None)))
        relative = rtol * scale
        self.margin = max(self.margin, float(largest(diff - (atol + relative), axis=None)))
        self.atol_needed = max(self.atol_needed, float(largest(diff - relative, axis=None)))

    def as_json(self):
        margin, atol_needed = self.margin, self.atol_needed
        if self.nonfinite_mismatch:
            margin = atol_needed = math.inf  # no tolerance makes a NaN/Inf mismatch pass
        return {
            "max_abs": _json_number(self.max_abs),
            "max_rel": _json_number(self.max_rel),
            "margin": _json_number(margin),
            "atol_needed": _json_number(max(0.0, atol_needed)),
            "nonfinite_mismatch": self.nonfinite_mismatch,
        }


def _json_number(value):
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _add_pair(totals, actual, expected, rtol, atol):
    """Adds one compared pair to `totals` (native when it can be, else numpy; NaNs unequal)."""
    dense = flakescope_native.dense_pair(actual, expected)
    if dense is not None:
        totals.add_dense(dense, rtol, atol, False)
        return
    a, _ = _to_numpy(actual)
    e, _ = _to_numpy(expected)
    totals.add(a, e, rtol, atol, False)


_GRADCHECK_APIS = {
    name: flakescope_gradcheck.GradcheckApi("torch.autograd." + name, _Totals, _add_pair)
    for name in ("gradcheck", "gradgradcheck")
}
