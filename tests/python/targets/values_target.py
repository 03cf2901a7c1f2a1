"""Assertions with known inputs; tests/python/test_capture_lines.py checks what the plugin records.

Each assertion line carries a `# site:<key>` marker so the checking test finds its line number.
"""
import numpy
import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from torch.testing import assert_close

A32 = [1.0, -2.0, 3.5, 0.0]
E32 = [1.0000001, -2.00001, 3.5, 1e-6]


def test_torch_assert_close_defaults():
    assert_close(torch.tensor(A32), torch.tensor(A32) * 1.0000001)  # site:tc_default


def test_torch_assert_close_explicit_fails():
    assert_close(torch.tensor(A32), torch.tensor(E32), rtol=1e-6, atol=1e-7)  # site:tc_explicit


def test_torch_assert_close_float64_module_attribute():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    torch.testing.assert_close(a, a + 1e-8)  # site:tc_f64


def test_torch_allclose_positional():
    assert not torch.allclose(torch.tensor(A32), torch.tensor(E32), 1e-6, 1e-7)  # site:ta_pos


def test_torch_assert_allclose_deprecated():
    # Deprecated, still common; it calls assert_close from inside torch.
    deprecated = getattr(torch.testing, "assert_allclose", None)
    if deprecated is None:
        pytest.skip("this torch has no torch.testing.assert_allclose")
    deprecated(torch.tensor(A32), torch.tensor(E32), rtol=0, atol=2e-5)  # site:taa
    deprecated(torch.tensor(A32), torch.tensor(E32))  # site:taa_default


def test_pytest_approx_array_abs():
    assert np.array(A32) == pytest.approx(np.array(E32), abs=2e-5)  # site:approx


def test_numpy_assert_allclose_defaults():
    assert_allclose(np.array(A32), np.array(E32))  # site:na_default


def test_numpy_allclose_kwargs():
    assert numpy.allclose(np.array(A32), np.array(E32), atol=2e-5, rtol=0)  # site:np_kw


def test_numpy_assert_equal_of_arrays():
    np.testing.assert_equal(np.array(A32), np.array(A32))  # site:np_equal
    np.testing.assert_equal({"a": 1}, {"a": 1})  # not arrays: not captured


def test_nan_mismatch():
    a = np.array([1.0, float("nan")])
    assert not np.allclose(a, np.array([1.0, 2.0]))  # site:np_nan


def test_nan_equal_nan_passes():
    a = np.array([1.0, float("nan"), float("inf")])
    assert_allclose(a, a.copy())  # site:na_nan
