"""Passing and failing plain asserts under the capture: the passing ones are captured without
their explanation being formatted (Loud's repr is never asked for); the failing ones keep pytest's
whole message."""
import os


class Loud:
    """Records each repr asked of it: pytest's explanation of an assert asks for it."""

    value = 0.25

    def __repr__(self):
        with open(os.environ["REPR_LOG"], "a") as f:
            f.write("repr\n")
        return "Loud()"


def test_passing_thresholds():
    for i in range(50):
        assert Loud().value < 0.5  # site:passing
        assert [1, 2, i] == [1, 2, i]


def test_failing_threshold():
    assert Loud().value > 0.5  # site:failing


def test_failing_sequence():
    assert [1, 2, 3] == [1, 2, 4]
