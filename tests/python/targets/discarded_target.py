"""Predicate calls whose result is asserted over several lines, one thrown away, and calls inside
and after a loop."""
import unittest

import torch


class Checks(unittest.TestCase):
    def test_asserted_over_lines(self):
        a, b = torch.tensor(1.0), torch.tensor(1.0 + 1e-3)
        self.assertTrue(
            torch.isclose(a, b, rtol=1e-2).all()  # site:multiline
        )
        assert (  # site:parenthesized
            torch.allclose(a, b, atol=1e-2)
        )

    def test_thrown_away(self):
        a, b = torch.tensor(1.0), torch.tensor(2.0)
        torch.allclose(a, b)  # site:bare


def test_in_a_loop():
    a = torch.tensor(1.0)
    for scale in (1e-3, 1e-4):
        while False:
            pass
        assert torch.allclose(a, a + scale, atol=1e-2)  # site:loop
    assert torch.allclose(a, a, atol=1e-2)  # site:after_loop


def _factor(a, b):
    if torch.allclose(a, b):  # picks a branch: not an assertion
        return 1.0
    return 2.0


def _check_all(pairs):
    for a, b in pairs:
        if not torch.allclose(a, b, atol=1e-3):  # an assertion: its branch raises
            raise AssertionError("differ")


def test_branches_and_helper_loops():
    a = torch.tensor(1.0)
    factor = _factor(a, a)  # no site: the helper's allclose only picks a branch
    _check_all([(a, a * factor), (a, a + 1e-4)])  # site:helper_loop
