"""The native measurement (libflakescope_measure.so) gives exactly what the plain float64
computation gives, on the pairs it takes; it takes the usual pairs (dense CPU floats of one shape)
and leaves every other pair to the numpy path. Under ctest FLAKESCOPE_MEASURE_LIBRARY names the
built library and a missing one fails; run by hand, the newest build tree's is used, or the tests
are skipped when there is none."""
import glob
import json
import os

import numpy as np
import pytest
import torch

import flakescope_capture as capture
import flakescope_native as native
from test_cheap_reads import inputs, reference_statistics, same_number

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(autouse=True)
def library(monkeypatch):
    path = os.environ.get(native.ENV)
    if not path:
        built = sorted(glob.glob(os.path.join(REPO, "build*", "share", "flakescope", "pytest",
                                              native.LIBRARY_NAME)), key=os.path.getmtime)
        if not built:
            pytest.skip("no built %s (build the project, or set %s)" % (native.LIBRARY_NAME, native.ENV))
        path = built[-1]
    monkeypatch.setenv(native.ENV, path)
    monkeypatch.setattr(native, "_function", None)  # load it afresh from `path`
    assert native.status().startswith("native"), native.status()
    yield path
    monkeypatch.setattr(native, "_function", None)


def native_statistics(pair, rtol, atol, equal_nan):
    totals = capture._Totals()
    totals.add_dense(pair, rtol, atol, equal_nan)
    return {"max_abs": totals.max_abs, "max_rel": totals.max_rel, "margin": totals.margin,
            "atol_needed": totals.atol_needed, "nonfinite_mismatch": totals.nonfinite_mismatch}


def test_native_statistics_equal_the_plain_float64_computation():
    generator = torch.Generator().manual_seed(11)
    taken = 0
    for actual, expected in inputs(generator):
        pair = native.dense_pair(actual, expected)
        if pair is None:
            continue
        taken += 1
        for rtol, atol in ((1.3e-6, 1e-5), (0.0, 0.0), (1e-3, 1e-8)):
            for equal_nan in (False, True):
                got = native_statistics(pair, rtol, atol, equal_nan)
                want = reference_statistics(actual, expected, rtol, atol, equal_nan)
                for key in want:
                    assert same_number(got[key], want[key]), (actual, expected, rtol, atol, key, got, want)
    assert taken >= 36  # float16, bfloat16, float32, float64: 0 to 64 elements, 0-d, requires_grad


def test_mixed_widths_and_numpy_arrays_are_measured_alike():
    generator = torch.Generator().manual_seed(3)
    base = torch.randn(257, generator=generator, dtype=torch.float64)
    base[[5, 17, 200]] = torch.tensor([float("nan"), float("inf"), 0.0], dtype=torch.float64)
    other = base + 1e-4 * torch.randn(257, generator=generator, dtype=torch.float64)
    cases = [(base.float(), other), (base.half(), other.bfloat16()), (base.numpy().astype(np.float16), other.numpy()),
             (base.float().numpy(), other.float().numpy())]
    for actual, expected in cases:
        pair = native.dense_pair(actual, expected)
        assert pair is not None, (type(actual), getattr(actual, "dtype", None))
        for equal_nan in (False, True):
            got = native_statistics(pair, 1e-5, 1e-6, equal_nan)
            want = reference_statistics(actual, expected, 1e-5, 1e-6, equal_nan)
            for key in want:
                assert same_number(got[key], want[key]), (key, got, want)


def test_pairs_the_numpy_path_keeps():
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    a = t.numpy()
    kept = {
        "transposed view": (t.t(), t.t().clone()),
        "broadcast": (t, t[:1]),
        "complex": (t.to(torch.complex64), t.to(torch.complex64)),
        "integers": (t.long(), t.long()),
        "bool": (t > 3, t > 3),
        "tensor against array": (t, a),
        "Python numbers": (1.5, 1.5),
        "byte-swapped array": (a.astype(">f4"), a),
        "array view with steps": (a[:, ::2], a[:, ::2].copy()),
        "masked array": (np.ma.masked_array(a), a),
    }
    if hasattr(torch, "_neg_view"):
        kept["negated view"] = (torch._neg_view(t), -t)
    for what, (actual, expected) in kept.items():
        assert native.dense_pair(actual, expected) is None, what


def test_a_capture_line_is_the_same_from_either_path(tmp_path, monkeypatch, library):
    """Whole lines of a wrapped assert_close, allclose and numpy allclose: the native path and the
    numpy path write the same line."""
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(8, 16, generator=generator)
    y = x + 3e-6 * torch.randn(8, 16, generator=generator)
    calls = [("torch.testing.assert_close", (x, y.double().float())),
             ("torch.allclose", (x, y)),
             ("numpy.allclose", (x.numpy(), y.double().numpy()))]

    def lines(path_setting):
        monkeypatch.setenv(native.ENV, path_setting)
        monkeypatch.setattr(native, "_function", None)
        path = str(tmp_path / ("capture-%s.jsonl" % ("native" if path_setting != "off" else "numpy")))
        capture._state.test = "test_native_measure.py::t"
        try:
            for name, args in calls:
                api = capture._APIS[name]
                wrapped = capture._make_wrapper(_original(name), api, path)
                try:
                    wrapped(*args)
                except AssertionError:
                    pass
        finally:
            capture._state.test = None
        return [json.loads(line) for line in open(path)], native.status()

    from_native, native_status = lines(library)
    from_numpy, numpy_status = lines("off")
    assert native_status.startswith("native") and numpy_status.startswith("numpy")
    assert len(from_native) == len(calls)
    assert from_native == from_numpy


def _original(name):
    if name == "torch.testing.assert_close":
        return torch.testing.assert_close
    if name == "torch.allclose":
        return torch.allclose
    return np.allclose


def test_every_float16_widens_as_numpy_widens_it():
    """All 65536 float16 bit patterns: |h - 0| is numpy's widening of h, and an infinity or a NaN
    is not a finite pair."""
    halves = np.arange(65536, dtype=np.uint16).view(np.float16)
    wide = halves.astype(np.float64)
    zero = np.zeros(1)
    wrong = []
    for i in range(halves.size):
        largest, _, _, _, no_finite, _, _ = native.dense_pair(halves[i:i + 1], zero).measure(0.0, 0.0, False)
        if np.isfinite(wide[i]) != (not no_finite) or (not no_finite and largest != abs(wide[i])):
            wrong.append(i)
    assert wrong == []


def test_threads_measuring_at_once_get_their_own_numbers():
    """ctypes releases the GIL during the call: each thread has its own argument buffers."""
    import threading

    generator = torch.Generator().manual_seed(9)
    pairs = []
    for scale in (1e-3, 1e-6, 1e-9, 1.0):
        x = torch.randn(4096, generator=generator, dtype=torch.float64)
        pairs.append((x, x + scale * torch.randn(4096, generator=generator, dtype=torch.float64)))
    want = [native_statistics(native.dense_pair(a, e), 1e-5, 1e-8, False) for a, e in pairs]
    wrong = []

    def work(index):
        a, e = pairs[index]
        for _ in range(300):
            if native_statistics(native.dense_pair(a, e), 1e-5, 1e-8, False) != want[index]:
                wrong.append(index)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(pairs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_a_tensor_that_cannot_be_read_in_place_goes_to_numpy():
    class NoStorage(torch.Tensor):
        """What fake and functional tensors do when asked for their memory."""

        def data_ptr(self):
            raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    t = torch.arange(4, dtype=torch.float32)
    assert native.dense_pair(t.as_subclass(NoStorage), t) is None
    assert native.dense_pair(t, t) is not None
