"""The capture's native measurement: native/flakescope_measure.cpp, built with flakescope as
libflakescope_measure.so and loaded here with ctypes, measures a dense pair of CPU float arrays in
one pass. The numpy path (flakescope_capture._Totals) gives the same numbers bit for bit and is used
whenever this one cannot be: no library (a plain `pip install` of the plugin), a tensor on a GPU,
a strided view, broadcasting, complex or integer values.

Where the library is: $FLAKESCOPE_MEASURE_LIBRARY (`flakescope audit` sets it to the one beside
its binary), else next to this file (the build and install trees' share/flakescope/pytest).
FLAKESCOPE_MEASURE_LIBRARY=off keeps the numpy path.
"""

import ctypes
import os
import sys
import threading

ENV = "FLAKESCOPE_MEASURE_LIBRARY"
LIBRARY_NAME = "libflakescope_measure.so"

# Element type codes of flakescope_measure_pair.
_FLOAT64, _FLOAT32, _FLOAT16, _BFLOAT16 = 0, 1, 2, 3
_NUMPY_CODES = {"d": _FLOAT64, "f": _FLOAT32, "e": _FLOAT16}  # native-order dtype.char
_NUMPY_NAMES = {"d": "float64", "f": "float32", "e": "float16"}

_function = None  # the C function once loaded; False when it cannot be


class _Buffers(threading.local):
    """The C function's packed arguments (addresses, types, count, equal_nan) and its doubles (rtol
    and atol in, the results out), reused, one pair per thread: ctypes releases the GIL during the
    call, so threads comparing at once must not share them."""

    def __init__(self):
        self.packed = (ctypes.c_int64 * 6)()
        self.io = (ctypes.c_double * 9)()


_buffers = _Buffers()
_torch_codes = None  # torch dtype -> (code, name)


def status():
    """"native (PATH)" or "numpy (why)": which path measures this process's captures."""
    function = _load()
    if function:
        return "native (%s)" % os.path.realpath(_library_path())
    return "numpy (%s)" % _why_not


_why_not = "not loaded yet"


def _library_path():
    given = os.environ.get(ENV)
    if given:
        return given
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), LIBRARY_NAME)


def _load():
    global _function, _why_not
    if _function is None:
        _function = False
        path = _library_path()
        if path.lower() in ("off", "0", "none"):
            _why_not = "%s=%s" % (ENV, path)
        elif not os.path.isfile(path):
            _why_not = "no %s" % path
        else:
            try:
                function = ctypes.CDLL(path).flakescope_measure_pair
            except (OSError, AttributeError) as exc:
                _why_not = "%s: %s" % (path, exc)
            else:
                function.restype = ctypes.c_int
                _function = function
    return _function


class DensePair:
    """Two same-shaped dense CPU float arrays the native measurement can read in place."""

    __slots__ = ("actual", "expected", "actual_code", "expected_code", "actual_dtype",
                 "expected_dtype", "shape", "count")

    def measure(self, rtol, atol, equal_nan):
        """(max |a-e|, max |a-e|/|e|, margin, atol needed, no finite pair, no |e| != 0 among
        them, a non-finite pair mismatched), as flakescope_measure_pair defines them."""
        buffers = _buffers
        packed, io = buffers.packed, buffers.io
        packed[0], packed[1] = self.actual, self.actual_code
        packed[2], packed[3] = self.expected, self.expected_code
        packed[4], packed[5] = self.count, 1 if equal_nan else 0
        io[0], io[1] = rtol, atol
        if _function(packed, io) != 0:
            raise ValueError("flakescope_measure_pair: unknown element type")
        return (io[2], io[3], io[4], io[5], io[6] != 0.0, io[7] != 0.0, io[8] != 0.0)


def dense_pair(actual, expected):
    """A DensePair for `actual` and `expected`, or None when the numpy path must measure them (or
    the library is not loaded). The pair holds addresses: the caller keeps both objects alive."""
    if not _load():
        return None
    try:
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(actual, torch.Tensor):
            if not isinstance(expected, torch.Tensor):
                return None
            return _tensor_pair(torch, actual, expected)
        numpy = sys.modules.get("numpy")
        if numpy is not None and type(actual) is numpy.ndarray and type(expected) is numpy.ndarray:
            return _array_pair(actual, expected)
    except Exception:
        pass  # a tensor subclass without storage (fake, functional, batched): numpy's turn
    return None


def _tensor_pair(torch, actual, expected):
    global _torch_codes
    if _torch_codes is None:
        _torch_codes = {torch.float64: (_FLOAT64, "float64"), torch.float32: (_FLOAT32, "float32"),
                        torch.float16: (_FLOAT16, "float16"),
                        torch.bfloat16: (_BFLOAT16, "bfloat16")}
    a_type, e_type = _torch_codes.get(actual.dtype), _torch_codes.get(expected.dtype)
    if a_type is None or e_type is None or actual.shape != expected.shape:
        return None
    for tensor in (actual, expected):
        # The neg bit marks a lazily negated view (torch >= 1.10): its memory holds -value.
        if (not tensor.is_cpu or tensor.layout != torch.strided or not tensor.is_contiguous()
                or getattr(tensor, "is_neg", _false)()):
            return None
    pair = DensePair()
    pair.actual, pair.expected = actual.data_ptr(), expected.data_ptr()
    pair.actual_code, pair.actual_dtype = a_type
    pair.expected_code, pair.expected_dtype = e_type
    pair.shape = actual.shape
    pair.count = actual.numel()
    return pair


def _array_pair(actual, expected):
    a_char, e_char = actual.dtype.char, expected.dtype.char
    if (a_char not in _NUMPY_CODES or e_char not in _NUMPY_CODES or actual.shape != expected.shape
            or not actual.dtype.isnative or not expected.dtype.isnative
            or not actual.flags.c_contiguous or not expected.flags.c_contiguous):
        return None
    pair = DensePair()
    pair.actual = actual.__array_interface__["data"][0]
    pair.expected = expected.__array_interface__["data"][0]
    pair.actual_code, pair.actual_dtype = _NUMPY_CODES[a_char], _NUMPY_NAMES[a_char]
    pair.expected_code, pair.expected_dtype = _NUMPY_CODES[e_char], _NUMPY_NAMES[e_char]
    pair.shape = actual.shape
    pair.count = actual.size
    return pair


def _false():
    return False
