"""With the plugin capturing, every test ends as it does without it, and every wrapped call returns
or raises exactly what the original does."""
import xml.etree.ElementTree as ET

import pytest

from conftest import read_lines


def outcomes(junit_path):
    result = {}
    for case in ET.parse(junit_path).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        messages = [child.get("message") for child in case if child.tag in ("failure", "error", "skipped")]
        result[case.get("name")] = (kinds, messages)
    return result


def run(target_runner, tmp_path, tag, plugin, env):
    junit = tmp_path / ("junit-%s.xml" % tag)
    log = tmp_path / ("log-%s.jsonl" % tag)
    process = target_runner.run("outcomes_target.py", plugin=plugin,
                                env=dict(env, TARGET_LOG=str(log)), args=["--junitxml", str(junit)])
    return process, outcomes(junit), read_lines(log)


@pytest.mark.parametrize("env_kind", ["capture", "capture_seed_repeat1"])
def test_outcomes_and_exceptions_are_the_originals(target_runner, tmp_path, env_kind):
    env = {"FLAKESCOPE_CAPTURE": str(tmp_path / "capture.jsonl")}
    if env_kind == "capture_seed_repeat1":
        env.update(FLAKESCOPE_SEED="7", FLAKESCOPE_REPEAT="1",
                   FLAKESCOPE_OUTCOMES=str(tmp_path / "outcomes.jsonl"))
    plain, plain_outcomes, plain_log = run(target_runner, tmp_path, "plain", False, {})
    wrapped, wrapped_outcomes, wrapped_log = run(target_runner, tmp_path, "wrapped", True, env)

    assert plain.returncode == wrapped.returncode == 1
    assert wrapped_outcomes == plain_outcomes
    assert set(plain_outcomes) == {"test_pass", "test_assertion_fails",
                                   "test_bad_arguments_raise_value_error", "test_xfail",
                                   "test_xpass", "test_skip", "test_messages_and_results"}
    assert wrapped_log == plain_log
    logged = {entry["name"]: entry["value"] for entry in wrapped_log}
    assert logged["allclose_true"] == ["returned", "True"]
    assert logged["allclose_false"] == ["returned", "False"]
    assert logged["close_fail"][0] == "AssertionError"
    assert logged["np_allclose_type"][0] != "returned"  # numpy's own TypeError/UFuncTypeError

    captures = read_lines(tmp_path / "capture.jsonl")
    # One line per wrapped call the tests made (the xpass/xfail/np.testing calls included).
    assert len(captures) == 12
    bad_arguments = [c for c in captures if c["test"].endswith("test_bad_arguments_raise_value_error")]
    assert len(bad_arguments) == 1 and bad_arguments[0]["passed"] is False
    assert bad_arguments[0]["exception"].startswith("ValueError")


def test_failures_point_at_the_test_line_not_the_plugin(target_runner, tmp_path):
    process = target_runner.run("outcomes_target.py", args=["-k", "assertion_fails"],
                                env={"FLAKESCOPE_CAPTURE": str(tmp_path / "c.jsonl"),
                                     "TARGET_LOG": str(tmp_path / "log")})
    assert "flakescope_pytest.py" not in process.stdout
    assert "test_target.py:29: AssertionError" in process.stdout, process.stdout


def test_inert_without_environment(target_runner, tmp_path):
    process = target_runner.run("outcomes_target.py", args=["-k", "test_pass"],
                                env={"TARGET_LOG": str(tmp_path / "log")})
    assert process.returncode == 0
    assert list(tmp_path.glob("*.jsonl")) == []


def test_recording_errors_are_recorded_and_never_raised(tmp_path, monkeypatch):
    import flakescope_capture as plugin

    calls = []

    def original(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
        calls.append((a, b))
        return "original result"

    def broken_measure(*args, **kwargs):
        raise RuntimeError("cannot measure this")

    monkeypatch.setattr(plugin, "_measure", broken_measure)
    capture = tmp_path / "capture.jsonl"
    wrapper = plugin._make_wrapper(original, plugin._APIS["numpy.allclose"], str(capture))
    assert wrapper(1, 2) == "original result"
    assert calls == [(1, 2)]
    (line,) = read_lines(capture)
    assert line["error"] == "RuntimeError: cannot measure this"
    assert line["api"] == "numpy.allclose" and line["passed"] is True


def test_unwritable_capture_file_does_not_fail_the_call(tmp_path):
    import flakescope_capture as plugin

    wrapper = plugin._make_wrapper(lambda a, b: False, plugin._APIS["numpy.allclose"],
                                   str(tmp_path / "missing-dir" / "capture.jsonl"))
    assert wrapper([1.0], [2.0]) is False
