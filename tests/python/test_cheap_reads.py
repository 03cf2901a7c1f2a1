"""The per-call and per-repetition shortcuts give exactly what the plain computations give: the
capture's statistics (read in place, widened by numpy, finite values without masks) against the
plain float64 computation, and the generator states (read in place) against getstate()."""
import math
import random
import warnings

import numpy as np
import pytest
import torch

import flakescope_capture as capture
import flakescope_outcomes as outcomes


def reference_statistics(actual, expected, rtol, atol, equal_nan):
    """The capture line's statistics computed the plain way: torch widens to float64 (or
    complex128), then masks split the finite pairs from the rest."""
    def wide(value):
        if isinstance(value, torch.Tensor):
            t = value.detach().cpu()
            return t.to(torch.complex128 if t.is_complex() else torch.float64).numpy()
        array = np.asarray(value)
        return array.astype(np.complex128 if np.iscomplexobj(array) else np.float64)

    a, e = np.broadcast_arrays(wide(actual), wide(expected))
    out = {"max_abs": 0.0, "max_rel": 0.0, "margin": -math.inf, "atol_needed": 0.0,
           "nonfinite_mismatch": False}
    if a.size == 0:
        return out
    with np.errstate(all="ignore"):
        finite = np.isfinite(a) & np.isfinite(e)
        nonfinite = ~finite
        if nonfinite.any():
            same = a[nonfinite] == e[nonfinite]
            if equal_nan:
                same |= np.isnan(a[nonfinite]) & np.isnan(e[nonfinite])
            out["nonfinite_mismatch"] = not same.all()
        if finite.any():
            diff, scale = np.abs(a[finite] - e[finite]), np.abs(e[finite])
            out["max_abs"] = float(diff.max())
            if (scale != 0).any():
                out["max_rel"] = float((diff[scale != 0] / scale[scale != 0]).max())
            out["margin"] = float((diff - (atol + rtol * scale)).max())
            out["atol_needed"] = max(0.0, float((diff - rtol * scale).max()))
    return out


def measured(actual, expected, rtol, atol, equal_nan):
    a, _ = capture._to_numpy(actual)
    e, _ = capture._to_numpy(expected)
    totals = capture._Totals()
    totals.add(a, e, rtol, atol, equal_nan)
    return {"max_abs": totals.max_abs, "max_rel": totals.max_rel, "margin": totals.margin,
            "atol_needed": totals.atol_needed, "nonfinite_mismatch": totals.nonfinite_mismatch}


def same_number(x, y):
    return x == y or (math.isnan(x) and math.isnan(y))


def inputs(generator):
    """Seeded pairs in the dtypes, layouts and special values the capture meets."""
    specials = [float("nan"), float("inf"), -float("inf"), 0.0, 5e-324, 1e300]
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64,
                  torch.int64, torch.bool):
        for n in (0, 1, 5, 64):
            base = torch.randn(n, generator=generator, dtype=torch.float64)
            other = base + torch.randn(n, generator=generator, dtype=torch.float64) * 1e-3
            if n:
                for k in range(min(3, n)):
                    index = int(torch.randint(n, (1,), generator=generator))
                    special = specials[int(torch.randint(len(specials), (1,), generator=generator))]
                    (base if k % 2 else other)[index] = special
            a, e = base.to(dtype), other.to(dtype)
            yield a, e
            yield a.numpy() if dtype != torch.bfloat16 else a, e  # numpy against torch
            if n == 64:
                yield a.reshape(8, 8).t(), e.reshape(8, 8).t()  # not contiguous
                yield a.reshape(8, 8), e.reshape(8, 8)[:1]  # broadcast
            if n:
                yield a[0], e[0]  # zero-dimensional
        if dtype.is_floating_point:
            yield torch.randn(3, generator=generator, dtype=dtype, requires_grad=True), torch.zeros(3, dtype=dtype)
    yield 1.5, 1.5000001  # Python numbers
    yield [1.0, 2.0], np.array([1.0, 2.0], dtype=np.float32)


def test_statistics_equal_the_plain_float64_computation():
    generator = torch.Generator().manual_seed(11)
    count = 0
    for actual, expected in inputs(generator):
        for rtol, atol in ((1.3e-6, 1e-5), (0.0, 0.0), (1e-3, 1e-8)):
            for equal_nan in (False, True):
                got = measured(actual, expected, rtol, atol, equal_nan)
                want = reference_statistics(actual, expected, rtol, atol, equal_nan)
                for key in want:
                    assert same_number(got[key], want[key]), (actual, expected, rtol, atol, key, got, want)
                count += 1
    assert count > 500


def test_the_capture_adds_no_floating_point_warning(tmp_path):
    """inf - inf, or a ratio that overflows, inside the capture's own arithmetic: no warning
    reaches the test, even as an error, and the line keeps its measurements."""
    path = str(tmp_path / "capture.jsonl")
    capture._state.test = "test_cheap_reads.py::t"
    wrapped = capture._make_wrapper(torch.allclose, capture._APIS["torch.allclose"], path)
    inf = float("inf")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert wrapped(torch.tensor([inf, 1.0], dtype=torch.float64), torch.tensor([inf, 1.0], dtype=torch.float64))
        assert not wrapped(torch.tensor([1e300], dtype=torch.float64), torch.tensor([5e-324], dtype=torch.float64))
    capture._state.test = None
    import json

    lines = [json.loads(line) for line in open(path)]
    assert [line.get("error") for line in lines] == [None, None]
    assert lines[0]["nonfinite_mismatch"] is False and lines[0]["max_abs"] == 0.0
    assert lines[1]["max_rel"] == "inf"


SCENARIOS = {
    "nothing": lambda: None,
    "random.random": lambda: random.random(),
    "second random.gauss only": lambda: random.gauss(0, 1),
    "numpy rand": lambda: np.random.rand(),
    "numpy randn": lambda: np.random.randn(),
    "624 numpy draws": lambda: np.random.randint(0, 2**32, size=624, dtype=np.uint64),
    "torch.rand": lambda: torch.rand(1),
    "numpy state restored": lambda: np.random.set_state(np.random.get_state()),
    "random reseeded alike": lambda: random.seed(7),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_generator_states_read_in_place_say_what_getstate_says(scenario, monkeypatch):
    def drew(fast):
        random.seed(7)
        np.random.seed(7)
        torch.manual_seed(7)
        if scenario == "second random.gauss only":
            random.gauss(0, 1)  # leaves the second of the pair cached
        before = outcomes.GeneratorStates(seeded=fast)
        SCENARIOS[scenario]()
        return outcomes.GeneratorStates(seeded=fast).drew_since(before)

    fast = drew(True)
    assert outcomes._random_words() is not None and outcomes._mt19937_words(np) is not None
    monkeypatch.setattr(outcomes, "_random_words", lambda: None)
    monkeypatch.setattr(outcomes, "_mt19937_words", lambda numpy: None)
    assert fast == drew(False)
    assert fast == (scenario not in ("nothing", "numpy state restored", "random reseeded alike"))
