"""FLAKESCOPE_SEED alone seeds; FLAKESCOPE_SETTING's knobs are applied inside the test process and
read back; `drew_random` tells which tests drew from the global generators."""
import pytest

import flakescope_knobs
from conftest import read_lines


def _run(target_runner, tmp_path, env, args=()):
    log, outcomes = tmp_path / "probe.jsonl", tmp_path / "outcomes.jsonl"
    for path in (log, outcomes):
        if path.exists():
            path.unlink()
    env = dict(env, TARGET_LOG=str(log), FLAKESCOPE_OUTCOMES=str(outcomes))
    done = target_runner.run("seed_probe_target.py", env=env, args=args)
    assert done.returncode == 0, done.stdout + done.stderr
    return read_lines(log), read_lines(outcomes)


def test_seed_alone_seeds_and_controlled_applies_the_knobs(target_runner, tmp_path):
    env = {"FLAKESCOPE_SEED": "77", "FLAKESCOPE_SETTING": "controlled"}
    log, lines = _run(target_runner, tmp_path, env)
    probe = log[0]
    assert probe["initial_seed"] == 77
    # Everything transformers' enable_full_determinism sets, and TF32 off, one thread.
    assert probe["deterministic"] is True and probe["cudnn_deterministic"] is True
    assert probe["cudnn_benchmark"] is False and probe["tf32"] is False and probe["cudnn_tf32"] is False
    assert probe["threads"] == 1 and probe["omp"] == "1"
    knobs = lines[0]["knobs"]
    assert knobs["torch"]["deterministic_algorithms"] is True
    assert knobs["torch"]["deterministic_warn_only"] is False
    assert knobs["torch"]["num_threads"] == 1 and knobs["torch"]["tf32_matmul"] is False
    assert knobs["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8" and knobs["CUDA_LAUNCH_BLOCKING"] == "1"
    assert "knobs" not in lines[1]  # once per process
    drew = {line["test"].split("::")[-1]: line["drew_random"] for line in lines}
    assert drew == {"test_probe": True, "test_no_draw": False}

    # The option alone, without a setting: the same draws from all three generators.
    again, lines = _run(target_runner, tmp_path, {}, args=["--flakescope-seed", "77"])
    assert {k: again[0][k] for k in ("initial_seed", "draw", "numpy", "random")} == \
        {k: probe[k] for k in ("initial_seed", "draw", "numpy", "random")}
    assert "knobs" not in lines[0]


def test_without_any_variable_the_plugin_is_inert(target_runner, tmp_path):
    log = tmp_path / "probe.jsonl"
    done = target_runner.run("seed_probe_target.py", env={"TARGET_LOG": str(log)})
    assert done.returncode == 0, done.stdout + done.stderr
    probe = read_lines(log)[0]
    assert probe["initial_seed"] != 77 and probe["deterministic"] is False


def test_free_setting_frees_each_knob_and_varies_threads_per_repetition(target_runner, tmp_path):
    env = {"FLAKESCOPE_SEED": "10", "FLAKESCOPE_REPEAT": "6", "FLAKESCOPE_SETTING": "free"}
    log, lines = _run(target_runner, tmp_path, env)
    assert {p["deterministic"] for p in log} == {False}
    assert {p["cudnn_benchmark"] for p in log} == {True}
    assert {p["tf32"] for p in log} == {True}
    threads = [p["threads"] for p in log]
    assert threads == [flakescope_knobs.thread_count(frozenset(["threads"]), 10 + i) for i in range(6)]
    assert len(set(threads)) > 1
    assert [int(p["omp"]) for p in log] == threads


def test_thread_count_is_the_cpp_free_thread_count():
    # flakescope's C++ free_thread_count(seed) = 1 + splitmix64(seed) % 4 (run_environment.cpp).
    free = frozenset(["threads"])
    assert [flakescope_knobs.thread_count(free, s) for s in range(8)] == \
        [1 + flakescope_knobs._mix(s) % 4 for s in range(8)]
    assert flakescope_knobs._mix(0) == 0xE220A8397B1DCDAF  # splitmix64's first output for state 0
    assert flakescope_knobs.thread_count(frozenset(), 3) == 1


def test_unknown_setting_is_one_usage_error(target_runner, tmp_path):
    done = target_runner.run("seed_probe_target.py", env={"FLAKESCOPE_SETTING": "free:wrong"})
    assert done.returncode == 4, done.stdout + done.stderr
    assert "unknown setting" in done.stderr


def test_free_generator_gets_fresh_entropy_per_repetition(target_runner, tmp_path):
    env = {"FLAKESCOPE_REPEAT": "3", "FLAKESCOPE_SETTING": "free:generator"}
    log, lines = _run(target_runner, tmp_path, env)
    assert len({p["draw"] for p in log}) == 3
    assert {line["seed"] for line in lines} == {None}


def test_parse_setting():
    assert flakescope_knobs.parse_setting("controlled") == frozenset()
    assert flakescope_knobs.parse_setting("free:threads+tf32") == {"threads", "tf32"}
    assert flakescope_knobs.parse_setting("free") == set(flakescope_knobs.KNOBS)
    with pytest.raises(pytest.UsageError):
        flakescope_knobs.parse_setting("free:bogus")


def test_a_test_seeding_its_own_generators_is_told_apart(target_runner, tmp_path):
    """A constant value under the audit's changing seeds means one thing when the test seeds
    itself (its own fixed draw) and another when it does not (other seeds may move it)."""
    outcomes = tmp_path / "outcomes.jsonl"
    result = target_runner.run("reseed_target.py", env={
        "FLAKESCOPE_SEED": "5", "FLAKESCOPE_REPEAT": "2", "FLAKESCOPE_OUTCOMES": str(outcomes)})
    assert "6 passed" in result.stdout, result.stdout + result.stderr
    reseeded = {}
    for line in read_lines(outcomes):
        reseeded.setdefault(line["test"].split("::")[-1], []).append(line.get("reseeded", False))
    assert reseeded == {"test_seeds_torch": [True, True], "test_seeds_numpy_and_random": [True, True],
                        "test_only_draws": [False, False]}, reseeded
