"""Tests with every outcome; tests/python/test_outcomes_unchanged.py runs this file with and without
the plugin and compares outcomes, exception messages and return values."""
import json
import os

import numpy as np
import pytest
import torch
from torch.testing import assert_close


def _log(name, value):
    with open(os.environ["TARGET_LOG"], "a") as f:
        f.write(json.dumps({"name": name, "value": value}) + "\n")


def _message(call):
    try:
        return ["returned", repr(call())]
    except Exception as exc:  # the type and the whole message must be the original's
        return [type(exc).__name__, str(exc)]


def test_pass():
    assert_close(torch.ones(3), torch.ones(3))


def test_assertion_fails():
    assert_close(torch.ones(3), torch.zeros(3))


def test_bad_arguments_raise_value_error():
    assert_close(torch.ones(3), torch.ones(3), rtol=1e-3)  # atol missing: ValueError


@pytest.mark.xfail(strict=True)
def test_xfail():
    np.testing.assert_allclose([1.0], [2.0])


@pytest.mark.xfail(strict=False)
def test_xpass():
    np.testing.assert_allclose([1.0], [1.0])


def test_skip():
    pytest.skip("not today")


def test_messages_and_results():
    _log("close_fail", _message(lambda: assert_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.5]))))
    _log("close_dtype", _message(lambda: assert_close(torch.ones(2), torch.ones(2, dtype=torch.float64))))
    _log("np_fail", _message(lambda: np.testing.assert_allclose([1.0, 2.0], [1.0, 2.1], err_msg="hint")))
    _log("allclose_true", _message(lambda: torch.allclose(torch.ones(2), torch.ones(2))))
    _log("allclose_false", _message(lambda: torch.allclose(torch.ones(2), torch.zeros(2))))
    _log("np_allclose", _message(lambda: np.allclose([1.0, 2.0], [1.0, 2.0 + 1e-9])))
    _log("np_allclose_type", _message(lambda: np.allclose([1.0], ["x"])))
