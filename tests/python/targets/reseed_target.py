"""A test that seeds torch itself, one that seeds numpy and random, and one that only draws."""
import random

import numpy as np
import torch


def test_seeds_torch():
    torch.manual_seed(42)
    assert torch.rand(1).item() >= 0


def test_seeds_numpy_and_random():
    np.random.seed(0)
    random.seed(0)
    assert np.random.rand() >= 0 and random.random() >= 0


def test_only_draws():
    assert torch.rand(1).item() >= 0
