"""Test ids drawn at import from the unseeded global generators (e3nn's tensor-product tests draw
their parameters with `random` this way)."""
import random

import numpy as np
import pytest

PARAMS = random.sample(range(10**6), 3) + [int(x) for x in np.random.randint(0, 10**6, size=2)]


@pytest.mark.parametrize("value", PARAMS)
def test_drawn(value):
    assert value >= 0
