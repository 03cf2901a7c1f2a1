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


def _reduction(a, b, c):
    if torch.allclose(a, b):  # picks a branch of a chain whose last branch raises: no assertion
        return 1.0
    elif torch.allclose(a, c):
        return 2.0
    else:
        raise RuntimeError("could not determine the reduction")


def _check_all(pairs):
    for a, b in pairs:
        if not torch.allclose(a, b, atol=1e-3):  # an assertion: its branch raises
            raise AssertionError("differ")


def test_branches_and_helper_loops():
    a = torch.tensor(1.0)
    factor = _factor(a, a) * _reduction(a, a, a)  # no site: the helpers' allclose pick branches
    _check_all([(a, a * factor), (a, a + 1e-4)])  # site:helper_loop
