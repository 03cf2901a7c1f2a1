"""Draws from every generator the plugin seeds; tests/python/test_repetition.py checks that each
in-process repetition is seeded with FLAKESCOPE_SEED + i and that fixtures behave as for a
parametrized test (function fixtures per repetition, module fixtures once)."""
import json
import os
import random

import numpy as np
import pytest
import torch

SETUPS = {"module": 0, "function": 0}


@pytest.fixture(scope="module")
def module_resource():
    SETUPS["module"] += 1
    return SETUPS["module"]


@pytest.fixture
def function_resource():
    SETUPS["function"] += 1
    return SETUPS["function"]


def test_draws(module_resource, function_resource):
    with open(os.environ["TARGET_LOG"], "a") as f:
        f.write(json.dumps({
            "random": random.random(),
            "numpy": float(np.random.rand()),
            "torch": float(torch.rand(1).item()),
            "module_setups": SETUPS["module"],
            "function_setups": SETUPS["function"],
        }) + "\n")


def test_fails_on_odd_draw():
    # Fails for about half of the seeds: per-repetition outcomes must differ.
    assert random.random() < 0.5
