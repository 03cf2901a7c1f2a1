"""Tolerances given by name: a module constant, a class attribute read by a helper method, one
set in setUp, a local, a helper's parameter passed from the test's line, a threshold's name; and
one computed (no definition)."""
import unittest

import numpy as np
import torch

ATOL = 1e-3  # def:ATOL
PREC = 5  # def:PREC
NORM_TOL = 0.5  # def:NORM_TOL


def close(a, b, atol):
    torch.testing.assert_close(a, b, rtol=0, atol=atol)


class Checks(unittest.TestCase):
    TOL = 1e-4  # def:TOL

    def setUp(self):
        self.delta = 1e-2  # def:delta

    def allclose(self, a, b):
        return torch.allclose(a, b, atol=self.TOL)

    def test_class_attribute(self):
        a = torch.ones(3)
        assert self.allclose(a, a + 1e-6)  # site:class_attribute

    def test_set_up(self):
        self.assertAlmostEqual(1.0, 1.001, delta=self.delta)  # site:set_up


def test_module_constant():
    a = torch.ones(3)
    torch.testing.assert_close(a, a + 1e-5, rtol=0, atol=ATOL)  # site:module_constant


def test_decimal():
    np.testing.assert_array_almost_equal(np.ones(3), np.ones(3) + 1e-7, decimal=PREC)  # site:decimal


def test_local():
    tol = 1e-2  # def:tol
    a = torch.ones(3)
    assert torch.allclose(a, a + 1e-4, atol=tol)  # site:local


def test_helper_parameter():
    a = torch.ones(3)
    close(a, a + 1e-5, atol=ATOL)  # site:helper_parameter


def test_threshold_name():
    diff = float(torch.tensor(0.1))
    assert diff < NORM_TOL  # site:threshold_name


def test_computed():
    a = torch.ones(3)
    assert torch.allclose(a, a + 1e-4, atol=ATOL * 2)  # site:computed
