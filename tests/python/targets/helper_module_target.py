"""A test calling a helper module of its suite (pyro's tests/common.py) that checks NaN positions
with torch.equal of two masks and then the values with a plain assert against its `prec`."""
import torch

from suite_tests.common import assert_equal


def test_through_the_helper():
    a = torch.tensor([1.0, 2.0, float("nan")], dtype=torch.float64)
    assert_equal(a + 1e-9, a, prec=1e-6)  # site:helper
