"""The site of a comparison reached through helpers is the test's line; `via` is the helper that
line called (where the per-call override goes, and which tells two comparisons inside it apart);
comparisons of counts are not captured as thresholds."""
import os
import subprocess
import sys

from conftest import HERE, read_lines

HELPERS = '''import torch


def assert_close_to(actual, expected, atol=None, rtol=None):
    torch.testing.assert_close(actual, expected, atol=atol, rtol=rtol)  # helper:inner


def check_round_trip(x, y, atol=None, rtol=None):
    assert_close_to(x, y, atol, rtol)  # helper:round_trip
    assert_close_to(x - y, torch.zeros_like(x), atol, rtol)  # helper:difference
'''


def markers(text, kind):
    found = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if "# %s:" % kind in line:
            found[line.split("# %s:" % kind)[1].strip()] = number
    return found


def test_sites_through_helpers(target_runner, tmp_path):
    (tmp_path / "round_trip_testing.py").write_text(HELPERS)
    (tmp_path / "solver_lib.py").write_text("def integrate(fn, x):\n    return fn(x)\n")
    capture = tmp_path / "capture.jsonl"
    result = target_runner.run("site_target.py", env={"FLAKESCOPE_CAPTURE": str(capture)})
    assert "9 passed" in result.stdout, result.stdout + result.stderr
    with open(os.path.join(HERE, "targets", "site_target.py")) as f:
        target = f.read()
    site = {k: "test_target.py:%d" % n for k, n in markers(target, "site").items()}
    local = "test_target.py:%d" % markers(target, "helper")["local"]
    helper = {k: "round_trip_testing.py:%d" % n for k, n in markers(HELPERS, "helper").items()}
    lines = read_lines(capture)

    # Two comparisons inside one helper the test's line called: one site, told apart by `via`.
    two = [l for l in lines if l["site"] == site["two_levels"]]
    assert [l["via"] for l in two] == [helper["round_trip"], helper["difference"]], two
    for line in two:
        assert line["via_function"] == "check_round_trip"
        assert line["via_accepts"] == ["atol", "rtol"]
        assert line["tolerance_at"] == "via"
        assert line["via_chain"][1] == helper["inner"] + " assert_close_to"

    # The tolerance passed on a continuation line of the test's call is still the site's.
    spread = [l for l in lines if l["site"] == site["multiline"]]
    assert len(spread) == 2 and all(l["tolerance_at"] == "site" for l in spread), spread
    assert all(l["atol"] == 1e-6 and l["rtol"] == 0 for l in spread), spread
    assert all(l["via_passed"] == {"rtol": -1, "atol": -1} for l in spread), spread
    assert all(l["via_values"] == {"atol": 1e-6, "rtol": 0.0} for l in spread), spread
    # A tolerance passed by position: which argument, so the fix edits that one.
    positional = [l for l in lines if l["site"] == site["positional"]]
    assert positional and all(l["tolerance_at"] == "site" for l in positional), positional
    assert all(l["via_passed"] == {"atol": 2, "rtol": 3}
               and l["via_values"] == {"atol": 1e-6, "rtol": 0.0}
               for l in positional), positional
    # No tolerance passed: it is the helper's; the values it had are still recorded.
    assert all(l["tolerance_at"] == "via" and "via_passed" not in l for l in two), two

    # A callback of the test's file that library code called: its own line, not the test's call.
    (callback,) = [l for l in lines if l["test"].endswith("test_callback_the_library_calls")]
    assert callback["site"] == site["callback"] and "via" not in callback, callback

    # In a try whose except catches the failure: a fallback runs instead (kornia's quaternions).
    (guarded,) = [l for l in lines if l["site"] == site["guarded"]]
    assert guarded["passed"] is False and guarded["guarded"].startswith(
        "try/except AssertionError at test_target.py:"), guarded
    (fallback,) = [l for l in lines if l["site"] == site["fallback"]]
    assert fallback["passed"] is True and "guarded" not in fallback, fallback

    # A helper defined in the test's file: the site is each test line that called it.
    for key in ("local_first", "local_second"):
        (line,) = [l for l in lines if l["site"] == site[key]]
        assert line["via"] == local and line["via_function"] == "close_here"
        assert "via_chain" not in line

    # Dimensions, lengths and integer tensors compared with numbers are not deviations.
    thresholds = [l for l in lines if l["api"] == "threshold"]
    assert [l["site"] for l in thresholds][0] == site["deviation"], thresholds

    # A literal on the left is the bound: `0.5 < v` is `v > 0.5`, and a chain's lower half too.
    (left,) = [l for l in thresholds if l["site"] == site["left_bound"]]
    assert (left["op"], left["value"], left["threshold"], left["direction"]) == (
        ">", 1.0, 0.5, "above"), left
    lower, upper = [l for l in thresholds if l["site"] == site["chain"]]
    assert (lower["op"], lower["value"], lower["threshold"]) == (">=", -1.0, -2.0), lower
    assert (upper["op"], upper["value"], upper["threshold"]) == ("<=", -1.0, 0.0), upper

    # `assert not (s > 0.9999)` is the threshold `s <= 0.9999`, not a check wanting values apart.
    (above,) = [l for l in thresholds if l["site"] == site["not_above"]]
    assert (above["op"], above["threshold"], above["passed"]) == ("<=", 0.9999, True), above
    assert above["direction"] == "below" and above["margin"] < 0 and "negated" not in above
    (below,) = [l for l in thresholds if l["site"] == site["not_below"]]
    assert (below["op"], below["direction"], below["passed"]) == (">=", "above", True), below
    # `not` of a comparison inside a larger expression: left as the source says, negated.
    (inside,) = [l for l in thresholds if l["site"] == site["not_in_and"]]
    assert inside["op"] == "<" and inside["negated"] == "assert not", inside


def test_a_call_asserted_over_several_lines_is_not_a_discarded_result(target_runner, tmp_path):
    """black's `self.assertTrue(\\n    torch.isclose(...)\\n)` puts the comparison alone on its
    line; whether its result is thrown away is read from the statement, not from the line."""
    capture = tmp_path / "capture.jsonl"
    result = target_runner.run("discarded_target.py", env={"FLAKESCOPE_CAPTURE": str(capture)})
    assert "4 passed" in result.stdout, result.stdout + result.stderr
    with open(os.path.join(HERE, "targets", "discarded_target.py")) as f:
        marks = markers(f.read(), "site")
    lines = {int(line["site"].rsplit(":", 1)[1]): line for line in read_lines(capture)}
    assert set(lines) == set(marks.values()), lines
    assert not lines[marks["multiline"]].get("unchecked"), lines[marks["multiline"]]
    assert not lines[marks["parenthesized"]].get("unchecked"), lines[marks["parenthesized"]]
    assert lines[marks["bare"]]["unchecked"] is True, lines[marks["bare"]]
    # A line in a loop says so (a failing pass ends the loop: its later passes go unmeasured).
    assert lines[marks["loop"]]["in_loop"] is True, lines[marks["loop"]]
    assert "in_loop" not in lines[marks["after_loop"]], lines[marks["after_loop"]]
    assert "in_loop" not in lines[marks["multiline"]], lines[marks["multiline"]]
    # A helper's loop too (backpack's check_sizes_and_values, parameter by parameter); a helper's
    # `if torch.allclose(...)` that only picks a branch is no assertion (no line from it).
    helper_loop = [l for l in read_lines(capture)
                   if l["site"].endswith(":%d" % marks["helper_loop"])]
    assert len(helper_loop) == 2 and all(l["in_loop"] for l in helper_loop), helper_loop


def test_assert_true_of_a_comparison_is_captured_as_a_threshold(target_runner, tmp_path):
    """`self.assertTrue(diff < tol)` hands unittest only a bool; the capture rewrites it so the
    two numbers are seen, and the test's outcome is what it was."""
    capture = tmp_path / "capture.jsonl"
    result = target_runner.run("unittest_compare_target.py", env={"FLAKESCOPE_CAPTURE": str(capture)})
    assert "1 failed, 9 passed" in result.stdout, result.stdout + result.stderr
    with open(os.path.join(HERE, "targets", "unittest_compare_target.py")) as f:
        marks = markers(f.read(), "site")
    lines = {int(line["site"].rsplit(":", 1)[1]): line for line in read_lines(capture)
             if line["api"] == "threshold"}
    below = lines[marks["true_below"]]
    assert below["op"] == "<" and below["threshold"] == 0.001 and below["passed"] is True, below
    assert 0.0004 < below["value"] < 0.0006, below
    above = lines[marks["false_above"]]  # assertFalse(d > t) is d <= t
    assert above["op"] == "<=" and above["threshold"] == 1e-3 and above["passed"] is True, above
    failing = lines[marks["failing"]]  # a literal on the left is the bound: 0.25 > 0.5 fails
    assert failing["passed"] is False and failing["value"] == 0.25 and failing["op"] == ">", failing
    assert set(lines) == {marks["true_below"], marks["false_above"], marks["failing"],
                          marks["tensor"], marks["numpy_assert_"], marks["elementwise"],
                          marks["elementwise_numpy"], marks["true_all"],
                          marks["true_torch_all"]}, lines
    # assertTrue((d < eps).all()), torch.all(-eps < d): the deciding element, as in a plain assert.
    true_all = lines[marks["true_all"]]
    assert true_all["op"] == "<" and true_all["passed"] is True, true_all
    assert abs(true_all["value"] - 4e-6) < 1e-12 and true_all["threshold"] == 1e-5, true_all
    mirrored = lines[marks["true_torch_all"]]  # -1e-3 < d is d > -1e-3: the smallest element
    assert mirrored["op"] == ">" and mirrored["threshold"] == -1e-3, mirrored
    assert abs(mirrored["value"] - 1e-6) < 1e-12, mirrored
    # `assert (d < 1e-5).all()`: measured by the element that decides it (largest for <).
    elementwise = lines[marks["elementwise"]]
    assert elementwise["op"] == "<" and elementwise["threshold"] == 1e-5, elementwise
    assert abs(elementwise["value"] - 3e-6) < 1e-12, elementwise
    smallest = lines[marks["elementwise_numpy"]]  # > : the smallest element
    assert smallest["op"] == ">" and smallest["value"] == 0.5 and smallest["threshold"] == 0.1
    numpy_assert = lines[marks["numpy_assert_"]]  # tensorly's assert_(error < tol)
    assert numpy_assert["op"] == "<" and numpy_assert["threshold"] == 1e-3, numpy_assert
    # `assert measure == 36.0`: an exact check of a computed number; a count is not captured.
    equals = {int(line["site"].rsplit(":", 1)[1]): line for line in read_lines(capture)
              if line["api"] == "=="}
    assert set(equals) == {marks["equal"], marks["elementwise_zero"],
                           marks["elementwise_equal"]}, equals
    for equal in equals.values():
        assert equal["exact"] is True and equal["passed"] is True and equal["max_abs"] == 0.0, equal
    # `(J == 0).all()`, `(a == b).all()` (zuko): element-wise exact checks, with their shape.
    assert equals[marks["elementwise_zero"]]["shape"] == [2, 2], equals
    assert equals[marks["elementwise_zero"]]["library"] == "torch", equals  # (its tolerant form)
    # The method forms `a.equal(b)` and `a.allclose(b)` (botorch) are the functions' own.
    by_site = {int(l["site"].rsplit(":", 1)[1]): l for l in read_lines(capture)}
    assert by_site[marks["method_equal"]]["api"] == "torch.equal", by_site[marks["method_equal"]]
    allclose = by_site[marks["method_allclose"]]
    assert allclose["api"] == "torch.allclose" and allclose["atol"] == 1e-6, allclose


def test_a_capture_run_leaves_no_rewritten_module_behind(target_runner, tmp_path):
    """The capture rewrites test modules (assertTrue comparisons call flakescope_capture): pytest
    must not cache that rewrite, or a later plain run without the plugin would load it."""
    capture = tmp_path / "capture.jsonl"
    result = target_runner.run("unittest_compare_target.py", env={
        "FLAKESCOPE_CAPTURE": str(capture), "PYTHONDONTWRITEBYTECODE": ""})
    assert "1 failed, 9 passed" in result.stdout, result.stdout + result.stderr
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FLAKESCOPE_", "PYTEST_", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE"))}
    plain = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                            "test_target.py"], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=300)
    assert "1 failed, 9 passed" in plain.stdout, plain.stdout + plain.stderr


def test_a_tolerance_given_by_name_carries_where_it_is_defined(target_runner, tmp_path):
    """backpack's `atol=self.ATOL` (a class attribute two calls down), `decimal=PREC_DBL`, a
    setUp's `self.delta`, `diff < norm_diff_tol`: the line names the definition the fix edits."""
    capture = tmp_path / "capture.jsonl"
    result = target_runner.run("named_tolerance_target.py", env={"FLAKESCOPE_CAPTURE": str(capture)})
    assert "8 passed" in result.stdout, result.stdout + result.stderr
    with open(os.path.join(HERE, "targets", "named_tolerance_target.py")) as f:
        text = f.read()
    sites, defs = markers(text, "site"), markers(text, "def")
    lines = {int(l["site"].rsplit(":", 1)[1]): l for l in read_lines(capture)}
    expected = {"class_attribute": ("self.TOL", "TOL", 1e-4), "set_up": ("self.delta", "delta", 1e-2),
                "module_constant": ("ATOL", "ATOL", 1e-3), "decimal": ("PREC", "PREC", 5.0),
                "local": ("tol", "tol", 1e-2), "helper_parameter": ("ATOL", "ATOL", 1e-3),
                "threshold_name": ("NORM_TOL", "NORM_TOL", 0.5)}
    for site, (name, definition, value) in expected.items():
        line = lines[sites[site]]
        assert line.get("tolerance_definition") == {
            "name": name, "at": "test_target.py:%d" % defs[definition], "value": value}, (site, line)
    assert "tolerance_definition" not in lines[sites["computed"]], lines[sites["computed"]]
