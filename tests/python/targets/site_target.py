"""Where the capture puts a comparison reached through helpers (tests/python/test_capture_sites.py):
each test line carries a `# site:<key>` marker, each helper line a `# helper:<key>` marker."""
import torch
from torch.testing import assert_close

from round_trip_testing import check_round_trip
from solver_lib import integrate

X = torch.linspace(-1.0, 1.0, 16)


def close_here(actual, expected):
    assert_close(actual, expected)  # helper:local


def test_two_levels_of_helpers():
    check_round_trip(X, X + 1e-9)  # site:two_levels


def test_tolerance_on_a_continuation_line():
    check_round_trip(  # site:multiline
        X,
        X + 1e-9,  # (a comment's atol=1 does not count)
        rtol=0,
        atol=1e-6,
    )


def test_tolerance_passed_positionally():
    check_round_trip(X, X + 1e-9, 1e-6, 0.0)  # site:positional


def test_helper_in_the_test_file():
    close_here(X, X.clone())  # site:local_first
    close_here(X * 1.0, X)  # site:local_second


def test_counts_are_not_thresholds():
    assert X.dim() > 0
    assert len(X) < 100
    assert torch.tensor(3) >= 2
    assert float((X - X).abs().max()) < 1e-3  # site:deviation


def test_bounds_written_on_the_left():
    assert 0.5 < float(X.abs().max())  # site:left_bound
    assert -2 <= float(X.min()) <= 0  # site:chain


def test_negated_thresholds():
    similarity = float(torch.nn.functional.cosine_similarity(X, X + 0.5, dim=0))
    assert not (similarity > 0.9999)  # site:not_above
    assert not similarity < 0.5  # site:not_below
    assert not (similarity < 0.5) and X.dim() == 1  # site:not_in_and


def test_callback_the_library_calls():
    def step(x):
        assert_close(x, x.clone())  # site:callback
        return x

    integrate(step, X)


def test_fallback_when_the_first_check_fails():
    flipped = -X
    try:
        assert_close(flipped, X)  # site:guarded
    except AssertionError:
        assert_close(-flipped, X)  # site:fallback
