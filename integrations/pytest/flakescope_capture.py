"""flakescope's assertion capture: wraps the comparison functions ML tests call and records, per
call, the site, the arguments and the measured deviation (one JSON line each, FLAKESCOPE_CAPTURE).

Loaded by the pytest plugin (flakescope_pytest); the wrapped functions return exactly what the
originals return and raise exactly what they raise.
"""

import json
import math
import os
import sys
import threading

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
# Python numbers are compared by assert_close as these dtypes.
_PYTHON_NUMBER_DTYPES = {bool: "bool", int: "int64", float: "float64", complex: "complex128"}


class _State(threading.local):
    """What the wrappers need to know about the running test (per thread)."""

    def __init__(self):
        self.test = None
        self.seed = None
        self.repeat = 0
        self.recording = False  # guards against recording nested wrapped calls


_state = _State()


def _append_line(path, obj):
    # One write(2) per line in append mode: concurrent writers (pytest-xdist workers, several
    # processes of one audit) never interleave inside a line.
    data = (json.dumps(obj, allow_nan=False) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------------
# Wrapping the assertion functions


class _Api:
    """How one assertion function takes its arguments and what its defaults are."""

    def __init__(self, name, positional, defaults, equal_nan_default, torch_defaults):
        self.name = name
        self.positional = positional  # parameter names that may be passed positionally
        self.defaults = defaults  # (rtol, atol) when not given
        self.equal_nan_default = equal_nan_default
        self.torch_defaults = torch_defaults  # assert_close: dtype-dependent defaults

    def bind(self, args, kwargs):
        bound = dict(zip(self.positional, args))
        bound.update(kwargs)
        return bound


_APIS = {
    "torch.testing.assert_close": _Api(
        "torch.testing.assert_close", ["actual", "expected"], None, False, True
    ),
    "torch.allclose": _Api(
        "torch.allclose", ["input", "other", "rtol", "atol", "equal_nan"], (1e-5, 1e-8), False, False
    ),
    "numpy.testing.assert_allclose": _Api(
        "numpy.testing.assert_allclose",
        ["actual", "desired", "rtol", "atol", "equal_nan"],
        (1e-7, 0.0),
        True,
        False,
    ),
    "numpy.allclose": _Api(
        "numpy.allclose", ["a", "b", "rtol", "atol", "equal_nan"], (1e-5, 1e-8), False, False
    ),
}


class _Patcher:
    def __init__(self, capture_path):
        self.capture_path = capture_path
        self.wrappers = {}  # id(original) -> (original, wrapper)
        self.patched_attrs = []  # (owner, attribute, original) to undo

    def patch_libraries(self):
        """Wraps the functions of the libraries imported so far; True when it wrapped any."""
        targets = []
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            targets.append((numpy.testing, "assert_allclose", "numpy.testing.assert_allclose"))
            targets.append((numpy, "allclose", "numpy.allclose"))
        torch = sys.modules.get("torch")
        if torch is not None and hasattr(torch, "testing") and hasattr(torch, "allclose"):
            targets.append((torch.testing, "assert_close", "torch.testing.assert_close"))
            targets.append((torch, "allclose", "torch.allclose"))
        before = len(self.wrappers)
        for owner, attribute, api_name in targets:
            original = getattr(owner, attribute, None)
            if original is None or getattr(original, "__flakescope_original__", None) is not None:
                continue  # absent, or already wrapped
            wrapper = _make_wrapper(original, _APIS[api_name], self.capture_path)
            self.wrappers[id(original)] = (original, wrapper)
            setattr(owner, attribute, wrapper)
            self.patched_attrs.append((owner, attribute, original))
        return len(self.wrappers) > before

    def patch_module_globals(self, rootdir):
        rootdir = os.path.abspath(rootdir) + os.sep
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if not path or not os.path.abspath(path).startswith(rootdir):
                continue
            if "site-packages" in path or "dist-packages" in path or module is sys.modules[__name__]:
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


def _make_wrapper(original, api, capture_path):
    def wrapper(*args, **kwargs):
        __tracebackhide__ = True  # pytest shows the failure at the test's line, as without us
        if _state.recording:  # called from inside another wrapped assertion: not a test's call
            return original(*args, **kwargs)
        caller = sys._getframe(1)
        site = "%s:%d" % (_relative(caller.f_code.co_filename), caller.f_lineno)
        _state.recording = True
        try:
            try:
                result = original(*args, **kwargs)
            except BaseException as exc:
                _record(capture_path, api, site, args, kwargs, result=None, exception=exc)
                raise
            _record(capture_path, api, site, args, kwargs, result=result, exception=None)
            return result
        finally:
            _state.recording = False

    wrapper.__flakescope_original__ = original
    wrapper.__name__ = getattr(original, "__name__", api.name.rsplit(".", 1)[-1])
    wrapper.__qualname__ = wrapper.__name__
    wrapper.__doc__ = getattr(original, "__doc__", None)
    wrapper.__wrapped__ = original
    return wrapper


def _relative(path):
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _record(capture_path, api, site, args, kwargs, result, exception):
    line = {"test": _state.test, "site": site, "api": api.name}
    try:
        if exception is not None and not isinstance(exception, Exception):
            return  # KeyboardInterrupt, SystemExit: not an assertion outcome
        if api.name.endswith("allclose") and not api.name.startswith("numpy.testing"):
            passed = exception is None and bool(result)
        else:
            passed = exception is None
        line["passed"] = passed
        if exception is not None and not isinstance(exception, AssertionError):
            # The call itself was invalid (bad arguments, unsupported types): no tolerance fixes it.
            line["exception"] = "%s: %s" % (type(exception).__name__, str(exception).split("\n")[0])
        line.update(_measure(api, args, kwargs))
    except Exception as exc:  # recording must never change the test's outcome
        line["error"] = "%s: %s" % (type(exc).__name__, exc)
        line["passed"] = exception is None and (result is None or bool(_safe_bool(result)))
    line["seed"] = _state.seed
    line["repeat"] = _state.repeat
    try:
        _append_line(capture_path, line)
    except Exception:
        pass  # an unwritable capture file must not fail the test either


def _safe_bool(value):
    try:
        return bool(value)
    except Exception:
        return True


def _measure(api, args, kwargs):
    import numpy as np

    bound = api.bind(args, kwargs)
    actual = bound.get(api.positional[0])
    expected = bound.get(api.positional[1])
    equal_nan = bound.get("equal_nan", api.equal_nan_default)
    if equal_nan is None:
        equal_nan = api.equal_nan_default
    leaves = list(_leaf_pairs(actual, expected)) if api.torch_defaults else [(actual, expected)]

    rtol_atol = []
    totals = _Totals()
    shape, dtype = None, None
    for leaf_actual, leaf_expected in leaves:
        a, a_dtype = _to_numpy(leaf_actual)
        e, e_dtype = _to_numpy(leaf_expected)
        if api.torch_defaults:
            rtol, atol = bound.get("rtol"), bound.get("atol")
            if rtol is None and atol is None:
                rtol, atol = _torch_defaults(a_dtype, e_dtype)
            elif rtol is None or atol is None:
                raise ValueError("only one of rtol and atol given")  # assert_close rejects it too
        else:
            rtol = bound.get("rtol", api.defaults[0])
            atol = bound.get("atol", api.defaults[1])
        rtol, atol = float(rtol), float(atol)
        rtol_atol.append((rtol, atol))
        if shape is None:
            shape, dtype = list(np.shape(a)), a_dtype
        totals.add(a, e, rtol, atol, bool(equal_nan))
    line = {
        "shape": shape if len(leaves) == 1 else [totals.count],
        "dtype": dtype,
        "rtol": rtol_atol[0][0] if rtol_atol else None,
        "atol": rtol_atol[0][1] if rtol_atol else None,
    }
    if len(leaves) != 1:
        line["leaves"] = len(leaves)
    if len(set(rtol_atol)) > 1:
        line["mixed_tolerances"] = True
    line.update(totals.as_json())
    return line


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


def _torch_defaults(*dtypes):
    pairs = [_TORCH_DEFAULT_TOLERANCES.get(d, (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _to_numpy(value):
    """(float64 or complex128 array, dtype name as torch spells it) for a tensor, array or number."""
    import numpy as np

    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        tensor = value.detach()
        if tensor.layout != torch.strided:
            tensor = tensor.to_dense()
        if tensor.is_quantized:
            tensor = tensor.dequantize()
        dtype = str(value.dtype).replace("torch.", "")
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
    wide = np.complex128 if np.iscomplexobj(array) else np.float64
    return array.astype(wide), dtype


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
        import numpy as np

        a, e = np.broadcast_arrays(a, e)
        self.count += a.size
        if a.size == 0:
            return
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
            scale = np.abs(ef)
            self.max_abs = max(self.max_abs, float(diff.max()))
            nonzero = scale != 0
            if nonzero.any():
                self.max_rel = max(self.max_rel, float((diff[nonzero] / scale[nonzero]).max()))
            self.margin = max(self.margin, float((diff - (atol + rtol * scale)).max()))
            self.atol_needed = max(self.atol_needed, float((diff - rtol * scale).max()))

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
