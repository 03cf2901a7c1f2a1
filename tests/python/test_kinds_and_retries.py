"""Environment errors and xfail strictness in the outcome lines; retry mechanisms switched off and
recorded (transformers'/diffusers' is_flaky through stand-ins with the same module paths)."""
import os
import subprocess
import sys

import pytest

from conftest import HERE, PLUGIN_DIR, read_lines
from flakescope_outcomes import environment_error

FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures", "pytest")
RETRY_PKG = os.path.join(FIXTURES, "retry_pkg")


def _audit_like(tmp_path, fixture, env=(), args=(), pythonpath=()):
    outcomes = tmp_path / "outcomes.jsonl"
    if outcomes.exists():
        outcomes.unlink()
    full = {k: v for k, v in os.environ.items() if not k.startswith(("FLAKESCOPE_", "PYTEST_"))}
    full.update(PYTHONPATH=os.pathsep.join([PLUGIN_DIR, *pythonpath]), PYTHONDONTWRITEBYTECODE="1",
                FLAKESCOPE_OUTCOMES=str(outcomes), **dict(env))
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "flakescope_pytest", "-q",
               os.path.join(FIXTURES, fixture), *args]
    done = subprocess.run(command, cwd=tmp_path, env=full, capture_output=True, text=True, timeout=300)
    return done, read_lines(outcomes)


def _by_test(lines):
    out = {}
    for line in lines:
        out.setdefault(line["test"].split("::")[-1], []).append(line)
    return out


def test_environment_errors_strict_xfail_and_skips(tmp_path):
    done, lines = _audit_like(tmp_path, "test_outcome_kinds.py", env={"FLAKESCOPE_SEED": "3", "FLAKESCOPE_REPEAT": "2"})
    assert done.returncode == 1, done.stdout + done.stderr
    t = _by_test(lines)
    assert t["test_hub_offline"][0]["environment"] == {"kind": "network", "exception": "OSError"}
    assert t["test_connection_error"][0]["environment"] == {"kind": "network", "exception": "ConnectionError"}
    assert t["test_missing_module"][0]["environment"] == {"kind": "missing-module", "exception": "ModuleNotFoundError"}
    assert t["test_out_of_memory"][0]["environment"]["kind"] == "out-of-memory"
    no_cuda = t["test_no_cuda"][0]
    assert no_cuda["outcome"] == "skip" or no_cuda["environment"]["kind"] == "no-cuda"
    assert "environment" not in t["test_real_failure"][0]
    assert [x["outcome"] for x in t["test_xfail_strict"]] == ["xfail", "xfail"]
    assert t["test_xfail_strict"][0]["strict"] is True
    assert t["test_xpass_strict"][0]["outcome"] == "fail"  # pytest: [XPASS(strict)]
    assert [x["outcome"] for x in t["test_xfail_sometimes"]] == ["xfail", "xpass"]  # seeds 3, 4
    assert t["test_xfail_sometimes"][0]["strict"] is False
    assert [x["outcome"] for x in t["test_skip"]] == ["skip", "skip"]


@pytest.mark.parametrize("exc, kind", [
    (OSError("Max retries exceeded with url: /api/models"), "network"),
    (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), "out-of-memory"),
    (AssertionError("Torch not compiled with CUDA enabled"), "no-cuda"),
    (RuntimeError("Found no NVIDIA driver on your system"), "no-cuda"),
    (ImportError("cannot import name 'x'"), "missing-module"),
    (AssertionError("tensors differ"), None),
    (ValueError("bad shape"), None),
])
def test_environment_error_kinds(exc, kind):
    found = environment_error(exc)
    assert (found or {}).get("kind") == kind


def test_an_op_the_controlled_setting_forbids_is_not_the_tests_failure():
    torch = pytest.importorskip("torch")
    unpool = torch.nn.MaxUnpool2d(2)
    pooled, indices = torch.nn.functional.max_pool2d(torch.randn(1, 1, 4, 4), 2, return_indices=True)
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        unpool(pooled, indices)
    except RuntimeError as exc:  # as the controlled setting makes it fail
        found = environment_error(exc)
    else:
        pytest.skip("this torch has a deterministic max_unpool2d on CPU")
    finally:
        torch.use_deterministic_algorithms(before)
    assert found == {"kind": "nondeterministic-op", "exception": "RuntimeError"}


def test_environment_error_found_through_the_cause_chain():
    class OfflineModeIsEnabled(ConnectionError):
        pass

    try:
        try:
            raise OfflineModeIsEnabled("offline")
        except ConnectionError as inner:
            raise OSError("cannot load the model") from inner
    except OSError as exc:
        found = environment_error(exc)
    assert found["kind"] == "hub-offline" and found["exception"].endswith("OfflineModeIsEnabled")


def test_retries_are_disabled_and_recorded(tmp_path):
    env = {"FLAKESCOPE_SEED": "3", "FLAKESCOPE_REPEAT": "30"}
    done, lines = _audit_like(tmp_path, "test_retries.py", env=env, pythonpath=[RETRY_PKG])
    assert done.returncode == 1, done.stdout + done.stderr
    t = _by_test(lines)
    assert t["test_hf_flaky"][0]["retry"] == {"mechanism": "is_flaky", "attempts": 10,
                                               "decorator": "@is_flaky(max_attempts=10)"}
    assert t["test_hf_never_fails"][0]["retry"]["attempts"] == 5  # is_flaky's default
    assert t["test_diffusers_broken"][0]["retry"]["decorator"] == "@is_flaky(max_attempts=3)"
    assert t["test_rerun_marker"][0]["retry"] == {"mechanism": "pytest-rerunfailures", "attempts": 5,
                                                  "decorator": "@pytest.mark.flaky(reruns=4)"}
    assert t["test_flaky_package"][0]["retry"] == {"mechanism": "flaky", "attempts": 3,
                                                   "decorator": "@flaky(max_runs=3)"}
    # One attempt per repetition: about 10% and 30% fail (0 would mean the loops ran).
    hf_failures = sum(x["outcome"] == "fail" for x in t["test_hf_flaky"])
    assert hf_failures >= 1
    assert 3 <= sum(x["outcome"] == "fail" for x in t["test_rerun_marker"]) <= 18
    assert "at try" not in done.stdout  # the stand-in's loop never printed a retry

    # FLAKESCOPE_RETRIES=keep: the is_flaky loop runs again and hides the failures.
    env["FLAKESCOPE_RETRIES"] = "keep"
    _, kept = _audit_like(tmp_path, "test_retries.py", env=env, pythonpath=[RETRY_PKG])
    assert sum(x["outcome"] == "fail" for x in _by_test(kept)["test_hf_flaky"]) == 0


def test_global_reruns_option_is_recorded(tmp_path):
    site = os.environ.get("FLAKESCOPE_TEST_RETRY_SITE")  # pytest-rerunfailures and flaky installed here
    if not site:
        pytest.skip("FLAKESCOPE_TEST_RETRY_SITE (pytest-rerunfailures, flaky) not given")
    env = {"FLAKESCOPE_SEED": "3", "FLAKESCOPE_REPEAT": "20"}
    done, lines = _audit_like(tmp_path, "test_seeded_draws.py", env=env, args=["--reruns", "2"],
                              pythonpath=[site])
    t = _by_test(lines)
    assert t["test_torch_draw"][0]["retry"]["decorator"] == "--reruns 2"
    # The real plugin did not rerun anything: no "R" in pytest's progress line.
    assert "rerun" not in done.stdout.splitlines()[-1], done.stdout


def test_failed_phases_carry_the_time_spent_building_their_report(tmp_path):
    # The audit warns when tracebacks dominate a run: the plugin times pytest's report building
    # (repr_failure) of each failed repetition, and says nothing for passing ones.
    done, lines = _audit_like(tmp_path, "test_outcome_kinds.py",
                              env={"FLAKESCOPE_SEED": "3", "FLAKESCOPE_REPEAT": "2"})
    assert done.returncode == 1, done.stdout + done.stderr
    t = _by_test(lines)
    for line in t["test_real_failure"]:
        assert 0 < line["report_seconds"] <= line["duration"]
    assert all("report_seconds" not in line for line in t["test_skip"])
