"""Comparisons a unittest-style test hands to assertTrue/assertFalse whole."""
import unittest

import torch


class Checks(unittest.TestCase):
    def test_true_below(self):
        res, ref = torch.tensor(1.0), torch.tensor(1.0005)
        self.assertTrue(torch.abs(res - ref).item() < 0.001)  # site:true_below

    def test_false_above(self):
        self.assertFalse(abs(0.3 - 0.2999) > 1e-3, "close enough")  # site:false_above

    def test_failing(self):
        self.assertTrue(0.5 < float(torch.tensor(0.25)))  # site:failing

    def test_counts_are_not_deviations(self):
        self.assertTrue(len([1, 2]) < 3)

    def test_tensor_result_kept(self):
        result = torch.tensor([0.1]) < torch.tensor([0.2])
        self.assertTrue(torch.tensor([0.1]) < torch.tensor([0.2]))  # site:tensor
        self.assertTrue(torch.equal(result, torch.tensor([True])))

    def test_elementwise_all(self):
        d = torch.tensor([1e-6, 4e-6])
        self.assertTrue((d < 1e-5).all())  # site:true_all
        self.assertTrue(torch.all(-1e-3 < d), "a number on the left")  # site:true_torch_all
        self.assertFalse((d > 1).all())  # wants some element to fail: no bound, not captured
        self.assertTrue((torch.tensor([1, 2]) < 5).all())  # counts: not captured


def test_plain_equality_of_numbers():
    measure = float(torch.tensor([35.5, 0.5]).sum())
    assert measure == 36.0  # site:equal
    assert len([measure]) == 1  # counts: not captured


def test_method_forms():
    a = torch.linspace(0, 1, 5)
    assert a.equal(a.clone())  # site:method_equal
    assert a.allclose(a + 1e-9, atol=1e-6)  # site:method_allclose


def test_numpy_assert_():
    from numpy.testing import assert_

    error = float(torch.tensor(2e-4))
    assert_(error < 1e-3, "error too large")  # site:numpy_assert_


def test_elementwise_with_a_number():
    import numpy as np

    d = torch.tensor([1e-6, 3e-6])
    assert (d < 1e-5).all()  # site:elementwise
    assert np.all(np.array([0.5, 0.7]) > 0.1)  # site:elementwise_numpy
    assert (torch.tensor([1, 2]) < 5).all()  # counts: not captured
    assert (d < 2e-6).any()  # any(): not a bound on every element, not captured
    J = torch.tensor([[1.0, 0.0], [0.5, 1.0]])
    assert (torch.triu(J, diagonal=1) == 0).all()  # site:elementwise_zero
    assert (J == J.clone()).all(), "element-wise equal"  # site:elementwise_equal
    assert (torch.tensor([1, 2]) == torch.tensor([1, 2])).all()  # integers: not captured
