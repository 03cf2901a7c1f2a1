"""torch.autograd.gradcheck / gradgradcheck are captured at the test's line, measured from the
Jacobian comparisons inside torch, in the units of the call's own atol and rtol (fast mode
included), and a backward that is not reentrant is recorded as nondeterminism."""
import os

import pytest

from conftest import HERE, TargetRunner, read_lines


def sites():
    with open(os.path.join(HERE, "targets", "gradcheck_target.py")) as f:
        text = f.read()
    return {line.split("# site:")[1].strip(): "test_target.py:%d" % number
            for number, line in enumerate(text.splitlines(), start=1) if "# site:" in line}


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    """(pytest's output, the capture lines by site marker) of one run of the target."""
    tmp_path = tmp_path_factory.mktemp("gradcheck")
    env = {"FLAKESCOPE_CAPTURE": str(tmp_path / "capture.jsonl")}
    result = TargetRunner(tmp_path).run("gradcheck_target.py", env=env)
    assert "3 failed, 4 passed" in result.stdout, result.stdout + result.stderr
    by_site = {}
    for line in read_lines(tmp_path / "capture.jsonl"):
        by_site.setdefault(line["site"], []).append(line)
    return result, {name: by_site.get(site, []) for name, site in sites().items()}


def test_each_gradcheck_is_one_call_at_the_tests_line(captured):
    _, lines = captured
    for name, found in lines.items():
        assert len(found) == 1, (name, found)
        assert "via" not in found[0], found[0]
    assert lines["correct"][0]["api"] == "torch.autograd.gradcheck"
    assert lines["gradgrad"][0]["api"] == "torch.autograd.gradgradcheck"


def test_a_correct_backward_passes_with_the_defaults_measured(captured):
    _, lines = captured
    (line,) = lines["correct"]
    assert line["passed"] is True
    assert (line["rtol"], line["atol"]) == (1e-3, 1e-5)
    assert line["shape"] == [25] and line["pairs"] == 1  # one 5 x 5 Jacobian
    assert 0 < line["max_abs"] < 1e-8 and line["margin"] < 0, line
    (gradgrad,) = lines["gradgrad"]
    assert gradgrad["passed"] is True and gradgrad["pairs"] >= 2


def test_a_backward_off_by_a_known_error_needs_that_atol(captured):
    _, lines = captured
    (line,) = lines["off"]
    assert line["passed"] is False and line["failure_kind"] == "values"
    # The analytical Jacobian is off by 2e-4 * pattern on its diagonal, |pattern| <= 1: the atol
    # it needs is 2e-4 less rtol * |numerical| at that element (finite differences add ~1e-10).
    assert 1.5e-4 < line["max_abs"] < 2.01e-4, line
    assert line["atol_needed"] < line["max_abs"] and line["margin"] > 0
    assert line["atol"] == 1e-5


def test_fast_mode_is_measured_in_the_users_atol(captured):
    _, lines = captured
    (line,) = lines["fast"]
    (slow,) = lines["off"]
    # v^T J u against its numerical estimate, divided by sum(u) sum(v): the pass rule is then
    # |a - n| <= atol + rtol |n| with the call's atol, as in slow mode.
    assert line["shape"] == [1] and line["atol"] == 1e-5
    assert line["passed"] == (line["margin"] <= 0), line
    assert line["atol_needed"] < 10 * slow["max_abs"], (line, slow)


def test_a_backward_that_is_not_reentrant_is_nondeterminism(captured):
    _, lines = captured
    (line,) = lines["reentrant"]
    assert line["passed"] is False and line["failure_kind"] == "reentrancy", line
    assert 0 < line["reentrancy"] < 1e-3
    assert "not reentrant" in line["failure_detail"] and "nondet_tol=0" in line["failure_detail"]


def test_raise_exception_false_is_a_failure_when_it_returns_false(captured):
    _, lines = captured
    (line,) = lines["false"]
    assert line["passed"] is False and line["failure_kind"] == "values" and line["margin"] > 0
    assert line["negated"] == "assert not"


def test_a_failing_call_is_measured_past_its_first_failing_jacobian(captured):
    # gradcheck raises at x's Jacobian (off by 1e-9); y's (off by 1e-6) is measured as well, so
    # the recommended atol covers both.
    _, lines = captured
    (line,) = lines["second"]
    assert line["passed"] is False and line["failure_kind"] == "values"
    assert line["remeasured"] is True and line["pairs"] == 2
    assert 0.99e-6 < line["atol_needed"] < 1.01e-6, line
