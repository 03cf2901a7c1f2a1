"""torch.autograd.gradcheck and gradgradcheck as captured comparisons.

A gradcheck compares, inside torch, each analytical Jacobian with its finite-difference estimate:
allclose(analytical, numerical, rtol, atol) in torch.autograd.gradcheck's own
_allclose_with_type_promotion, and raises GradcheckError at the first pair that is not close. The
test's line only holds `gradcheck(f, inputs, atol=..., rtol=...)`: to say how far the call is from
failing, the capture hooks those internal comparisons while a wrapped gradcheck runs and measures
each pair as it measures an assert_close (margins in the units of the user's atol).

Fast mode (fast_mode=True) compares v^T J u with atol scaled by sum(u) * sum(v)
(_adjusted_atol); both sides are divided by that factor, which gives the same pass rule in the
user's atol. The reentrancy check (two backward passes at one input must agree within nondet_tol)
is hooked too: a backward that is not reentrant is nondeterminism, which no atol fixes.
"""

import math
import sys
import threading

_DEFAULTS = {"rtol": 1e-3, "atol": 1e-5, "nondet_tol": 0.0}
_HOOKED = ("_allclose_with_type_promotion", "_adjusted_atol", "_check_jacobians_equal")


class _Active(threading.local):
    measurement = None  # the _Measurement of the gradcheck running on this thread


_active = _Active()


class _Measurement:
    """What the hooked internals saw during one gradcheck call."""

    def __init__(self, totals, add_pair, rtol, atol):
        self.totals = totals
        self.add_pair = add_pair  # add_pair(totals, actual, expected, rtol, atol)
        self.rtol, self.atol = rtol, atol
        self.pairs = 0
        self.factor = None  # fast mode's atol scale for the next comparison
        self.reentrancy = 0.0  # largest difference between two backward passes
        self.error = None

    def compare(self, analytical, numerical, rtol):
        factor, self.factor = self.factor, None
        if factor is not None and factor != 0 and math.isfinite(factor):
            scale = abs(factor)
            analytical, numerical = analytical / scale, numerical / scale
        self.add_pair(self.totals, analytical.detach(), numerical.detach(), float(rtol), self.atol)
        self.pairs += 1

    def jacobians(self, first, second):
        for a, b in zip(first, second):
            if a.numel() != 0:
                self.reentrancy = max(self.reentrancy, float((a - b).abs().max()))


def _hook(name, original):
    """The replacement of gradcheck's internal `name`: the original, observed when a wrapped
    gradcheck is running on this thread (torch's own calls outside one are left alone)."""

    def observe(method, *args):
        measurement = _active.measurement
        if measurement is None or measurement.error is not None:
            return
        try:
            method(measurement, *args)
        except Exception as exc:  # measuring must never change what gradcheck decides
            measurement.error = "%s: %s" % (type(exc).__name__, exc)

    if name == "_allclose_with_type_promotion":
        def hooked(a, b, rtol, atol):
            observe(_Measurement.compare, a, b, rtol)
            return original(a, b, rtol, atol)
    elif name == "_adjusted_atol":
        def hooked(atol, u, v):
            measurement = _active.measurement
            if measurement is not None:
                try:
                    measurement.factor = float(original(1.0, u, v))
                except Exception:
                    measurement.factor = None
            return original(atol, u, v)
    else:
        def hooked(j1, j2, atol):
            observe(_Measurement.jacobians, j1, j2)
            return original(j1, j2, atol)
    hooked.__flakescope_original__ = original
    hooked.__wrapped__ = original
    return hooked


def hook_internals(patched_attrs):
    """Hooks torch.autograd.gradcheck's internal comparisons (once; each hook passes through
    unless a wrapped gradcheck runs); records (module, name, original) to undo in patched_attrs."""
    module = sys.modules.get("torch.autograd.gradcheck")
    if module is None:
        return
    for name in _HOOKED:
        original = module.__dict__.get(name)
        if original is None or getattr(original, "__flakescope_original__", None) is not None:
            continue
        setattr(module, name, _hook(name, original))
        patched_attrs.append((module, name, original))


def targets():
    """(owner, attribute) pairs through which tests call gradcheck and gradgradcheck:
    torch.autograd.gradcheck(...) and `from torch.autograd(.gradcheck) import gradcheck`."""
    found = []
    autograd = sys.modules.get("torch.autograd")
    module = sys.modules.get("torch.autograd.gradcheck")
    for name in ("gradcheck", "gradgradcheck"):
        for owner in (autograd, module):
            if owner is not None and callable(owner.__dict__.get(name)):
                found.append((owner, name))
    return found


class GradcheckApi:
    """gradcheck(func, inputs, *, eps, atol, rtol, raise_exception, nondet_tol, fast_mode, ...):
    passes by returning True; fails by raising GradcheckError, or returning False with
    raise_exception=False."""

    kind = "raises"
    exact = False
    wants = None
    first = second = None
    positional = ["func", "inputs"]

    def __init__(self, name, new_totals, add_pair):
        self.name = name
        self.new_totals = new_totals
        self.add_pair = add_pair

    def bind(self, args, kwargs):
        bound = dict(zip(self.positional, args))
        bound.update(kwargs)
        return bound

    def tolerance(self, bound, name):
        value = bound.get(name)
        return float(_DEFAULTS[name] if value is None else value)

    def begin(self, bound):
        """Starts observing the internal comparisons; returns what end() restores."""
        previous = _active.measurement
        _active.measurement = _Measurement(self.new_totals(), self.add_pair,
                                           self.tolerance(bound, "rtol"),
                                           self.tolerance(bound, "atol"))
        return previous

    def end(self, previous):
        measurement, _active.measurement = _active.measurement, previous
        return measurement

    def complete(self, original, args, kwargs, measurement, exception):
        """After a Jacobian mismatch, the rest of the call measured too: gradcheck stops at the
        first pair that fails, and an atol that covers that pair alone may still fail the next
        (torchdiffeq's second input). The same call again with an atol nothing exceeds compares
        every pair; its measurement replaces the partial one. Only failing calls pay for it."""
        if exception is None or "Jacobian mismatch" not in str(exception).split("\n")[0]:
            return measurement
        again = dict(kwargs)
        again.update(atol=1e300, raise_exception=False)
        bound = self.bind(args, kwargs)
        previous = self.begin(bound)
        try:
            original(*args, **again)
        except Exception:
            pass
        complete = self.end(previous)
        if complete.error is not None or complete.pairs <= measurement.pairs:
            return measurement  # it did not get further: keep what the call itself compared
        complete.remeasured = True
        return complete

    def measure(self, bound, result, exception, measurement):
        """The capture line's fields for one gradcheck call."""
        passed = exception is None and result is not False
        fields = {"passed": passed, "rtol": measurement.rtol, "atol": measurement.atol,
                  "dtype": None, "shape": [measurement.totals.count], "pairs": measurement.pairs}
        fields.update(measurement.totals.as_json())
        if measurement.reentrancy > 0:
            fields["reentrancy"] = measurement.reentrancy
        if measurement.error is not None:
            fields["error"] = measurement.error
        if getattr(measurement, "remeasured", False):
            fields["remeasured"] = True  # every Jacobian pair, not only those up to the failure
        if not passed:
            fields.update(self._failure(bound, exception, measurement, fields))
        return fields

    def _failure(self, bound, exception, measurement, fields):
        text = str(exception).split("\n")[0] if exception is not None else ""
        nondet_tol = self.tolerance(bound, "nondet_tol")
        if "not reentrant" in text or (exception is None and measurement.reentrancy > nondet_tol):
            return {"failure_kind": "reentrancy",
                    "failure_detail": "backward is not reentrant: two backward passes at the same "
                                      "input differ by %.3g (nondet_tol=%g)"
                                      % (measurement.reentrancy, nondet_tol)}
        margin = fields.get("margin")
        values_failed = isinstance(margin, float) and margin > 0 or margin == "inf"
        if "Jacobian mismatch" in text or (exception is None and values_failed):
            if fields.get("nonfinite_mismatch"):
                return {"failure_kind": "nonfinite", "failure_detail": "NaN/Inf positions differ"}
            return {"failure_kind": "values"}
        if exception is None:
            return {"failure_kind": "exception",
                    "failure_detail": "gradcheck returned False for a reason it did not raise"}
        return {"failure_kind": "exception", "exception": "%s: %s" % (type(exception).__name__, text),
                "failure_detail": "%s: %s" % (type(exception).__name__, text[:200])}
