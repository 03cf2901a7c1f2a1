"""The capture lines carry the values an independent computation gives for the same inputs."""
import math
import os
import struct

import pytest

from conftest import HERE, read_lines

A32 = [1.0, -2.0, 3.5, 0.0]
E32 = [1.0000001, -2.00001, 3.5, 1e-6]


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def site_lines():
    """Marker key -> line number in values_target.py."""
    lines = {}
    with open(os.path.join(HERE, "targets", "values_target.py")) as f:
        for number, text in enumerate(f, start=1):
            if "# site:" in text:
                lines[text.split("# site:")[1].strip()] = number
    return lines


def expected_metrics(actual, expected, rtol, atol):
    diffs = [abs(a - e) for a, e in zip(actual, expected)]
    rels = [d / abs(e) for d, e in zip(diffs, expected) if e != 0]
    return {
        "max_abs": max(diffs),
        "max_rel": max(rels) if rels else 0.0,
        "margin": max(d - (atol + rtol * abs(e)) for d, e in zip(diffs, expected)),
        "atol_needed": max(0.0, max(d - rtol * abs(e) for d, e in zip(diffs, expected))),
    }


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    from conftest import TargetRunner

    tmp = tmp_path_factory.mktemp("values")
    capture = tmp / "capture.jsonl"
    result = TargetRunner(tmp).run("values_target.py", env={"FLAKESCOPE_CAPTURE": str(capture)})
    # (9 passed, or 8 and a skip where torch has no torch.testing.assert_allclose)
    assert ("2 failed, 9 passed" in result.stdout
            or "2 failed, 8 passed, 1 skipped" in result.stdout), result.stdout + result.stderr
    by_site = {}
    for line in read_lines(capture):
        by_site.setdefault(line["site"], []).append(line)
    return by_site


def line_for(captured, key):
    site = "test_target.py:%d" % site_lines()[key]
    assert site in captured, sorted(captured)
    assert len(captured[site]) == 1
    return captured[site][0]


def check(line, api, test, shape, dtype, rtol, atol, metrics, passed):
    assert line["api"] == api
    assert line["test"] == "test_target.py::" + test
    assert line["shape"] == shape
    assert line["dtype"] == dtype
    assert line["rtol"] == rtol and line["atol"] == atol
    for key, value in metrics.items():
        assert line[key] == pytest.approx(value, rel=1e-12, abs=1e-300), key
    assert line["passed"] is passed
    assert line["nonfinite_mismatch"] is False
    assert line["seed"] is None and line["repeat"] == 0


def test_torch_assert_close_defaults_follow_the_dtype(captured):
    actual = [f32(x) for x in A32]
    expected = [f32(a * f32(1.0000001)) for a in actual]  # float32 product, rounded once
    check(line_for(captured, "tc_default"), "torch.testing.assert_close",
          "test_torch_assert_close_defaults", [4], "float32", 1.3e-6, 1e-5,
          expected_metrics(actual, expected, 1.3e-6, 1e-5), True)


def test_torch_assert_close_explicit_arguments_and_failure(captured):
    actual, expected = [f32(x) for x in A32], [f32(x) for x in E32]
    line = line_for(captured, "tc_explicit")
    check(line, "torch.testing.assert_close", "test_torch_assert_close_explicit_fails", [4],
          "float32", 1e-6, 1e-7, expected_metrics(actual, expected, 1e-6, 1e-7), False)
    assert line["margin"] > 0


def test_directly_imported_and_module_attribute_are_both_wrapped(captured):
    a = [1.0, 2.0, 3.0, 4.0]
    check(line_for(captured, "tc_f64"), "torch.testing.assert_close",
          "test_torch_assert_close_float64_module_attribute", [2, 2], "float64", 1e-7, 1e-7,
          expected_metrics(a, [x + 1e-8 for x in a], 1e-7, 1e-7), True)


def test_torch_allclose_positional_tolerances(captured):
    actual, expected = [f32(x) for x in A32], [f32(x) for x in E32]
    check(line_for(captured, "ta_pos"), "torch.allclose", "test_torch_allclose_positional", [4],
          "float32", 1e-6, 1e-7, expected_metrics(actual, expected, 1e-6, 1e-7), False)


def test_torch_assert_allclose_is_captured_itself(captured):
    # It calls assert_close from inside torch, a call the capture leaves alone as torch's own:
    # the deprecated function is wrapped itself, at the test's line.
    import torch

    if not hasattr(torch.testing, "assert_allclose"):
        pytest.skip("this torch has no torch.testing.assert_allclose")
    actual, expected = [f32(x) for x in A32], [f32(x) for x in E32]
    check(line_for(captured, "taa"), "torch.testing.assert_allclose",
          "test_torch_assert_allclose_deprecated", [4], "float32", 0.0, 2e-5,
          expected_metrics(actual, expected, 0.0, 2e-5), True)
    # Its own defaults (float32: rtol 1e-4, atol 1e-5), not assert_close's (1.3e-6, 1e-5).
    default = line_for(captured, "taa_default")
    assert (default["rtol"], default["atol"]) == (1e-4, 1e-5), default


def test_pytest_approx_is_captured_through_the_assertion_hooks(captured):
    # `actual == pytest.approx(expected, abs=...)`: rel is not used when only abs is given, and
    # approx passes an element within max(rel |e|, abs), so the abs it needs is |a - e| itself.
    line = line_for(captured, "approx")
    assert line["api"] == "pytest.approx"
    assert line["test"] == "test_target.py::test_pytest_approx_array_abs"
    assert line["shape"] == [4] and line["rtol"] == 0.0 and line["atol"] == 2e-5
    diffs = [abs(a - e) for a, e in zip(A32, E32)]
    assert line["max_abs"] == pytest.approx(max(diffs), rel=1e-12)
    assert line["atol_needed"] == pytest.approx(max(diffs), rel=1e-12)
    assert line["margin"] == pytest.approx(max(diffs) - 2e-5, rel=1e-9)
    assert line["passed"] is True and line["nonfinite_mismatch"] is False


def test_numpy_assert_allclose_defaults(captured):
    check(line_for(captured, "na_default"), "numpy.testing.assert_allclose",
          "test_numpy_assert_allclose_defaults", [4], "float64", 1e-7, 0.0,
          expected_metrics(A32, E32, 1e-7, 0.0), False)


def test_numpy_allclose_keyword_tolerances(captured):
    check(line_for(captured, "np_kw"), "numpy.allclose", "test_numpy_allclose_kwargs", [4],
          "float64", 0.0, 2e-5, expected_metrics(A32, E32, 0.0, 2e-5), True)


def test_numpy_assert_equal_of_arrays_is_an_exact_check(captured):
    line = line_for(captured, "np_equal")
    assert line["api"] == "numpy.testing.assert_equal" and line["exact"] is True, line
    assert line["passed"] is True and line["max_abs"] == 0.0 and line["shape"] == [4]
    # The next line compares two dicts: not a numeric comparison.
    assert "test_target.py:%d" % (site_lines()["np_equal"] + 1) not in captured, sorted(captured)


def test_nan_mismatch_is_flagged_and_needs_infinite_atol(captured):
    line = line_for(captured, "np_nan")
    assert line["nonfinite_mismatch"] is True
    assert line["margin"] == "inf" and line["atol_needed"] == "inf"
    assert line["passed"] is False
    assert line["max_abs"] == 0.0  # over the finite pairs


def test_matching_nan_and_inf_pass_with_equal_nan(captured):
    line = line_for(captured, "na_nan")
    assert line["nonfinite_mismatch"] is False and line["passed"] is True
    assert line["max_abs"] == 0.0 and line["atol_needed"] == 0.0
    assert line["margin"] == pytest.approx(-1e-7 * 1.0)  # the one finite element: 0 - rtol*1


def test_every_line_is_strict_json_with_the_interface_keys(captured):
    keys = {"test", "site", "api", "shape", "dtype", "rtol", "atol", "max_abs", "max_rel",
            "margin", "atol_needed", "nonfinite_mismatch", "passed", "seed", "repeat"}
    import torch

    lines = [line for lines in captured.values() for line in lines]
    assert len(lines) == (12 if hasattr(torch.testing, "assert_allclose") else 10)
    for line in lines:
        assert keys <= set(line), line
        for key in ("max_abs", "max_rel", "margin", "atol_needed"):
            value = line[key]
            assert value in ("inf", "-inf", None) or math.isfinite(value)
