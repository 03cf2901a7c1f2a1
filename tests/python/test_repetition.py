"""In-process repetition: N runs of each test in one process, repetition i seeded with seed + i,
one outcome line per repetition, fixtures as for a parametrized test."""
import random

import numpy as np
import torch

from conftest import read_lines

SEED = 1000
REPEATS = 6


def expected_draws(seed):
    """What a test drawing once from each generator sees after seeding with `seed`."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return random.random(), float(np.random.rand()), float(torch.rand(1).item())


def run(target_runner, tmp_path, seed, repeats, via_option=False):
    log, outcomes = tmp_path / "draws.jsonl", tmp_path / "outcomes.jsonl"
    env = {"TARGET_LOG": str(log), "FLAKESCOPE_OUTCOMES": str(outcomes)}
    args = []
    if via_option:
        args = ["--flakescope-repeat", str(repeats), "--flakescope-seed", str(seed)]
    else:
        env.update(FLAKESCOPE_SEED=str(seed), FLAKESCOPE_REPEAT=str(repeats))
    process = target_runner.run("repeat_target.py", env=env, args=args)
    return process, read_lines(log), read_lines(outcomes)


def test_each_repetition_is_reseeded_with_seed_plus_i(target_runner, tmp_path):
    process, draws, outcomes = run(target_runner, tmp_path, SEED, REPEATS)
    assert len(draws) == REPEATS, process.stdout + process.stderr
    for i, draw in enumerate(draws):
        assert (draw["random"], draw["numpy"], draw["torch"]) == expected_draws(SEED + i)
    # Independent: no two repetitions drew the same numbers.
    assert len({d["random"] for d in draws}) == REPEATS
    assert len({d["torch"] for d in draws}) == REPEATS


def test_fixtures_behave_as_for_a_parametrized_test(target_runner, tmp_path):
    _, draws, _ = run(target_runner, tmp_path, SEED, REPEATS)
    assert [d["module_setups"] for d in draws] == [1] * REPEATS
    assert [d["function_setups"] for d in draws] == list(range(1, REPEATS + 1))


def test_one_outcome_line_per_repetition(target_runner, tmp_path):
    process, _, outcomes = run(target_runner, tmp_path, SEED, REPEATS, via_option=True)
    draws_lines = [o for o in outcomes if o["test"] == "test_target.py::test_draws"]
    odd_lines = [o for o in outcomes if o["test"] == "test_target.py::test_fails_on_odd_draw"]
    assert [o["repeat"] for o in draws_lines] == list(range(REPEATS))
    assert [o["seed"] for o in odd_lines] == [SEED + i for i in range(REPEATS)]
    assert all(o["outcome"] == "pass" for o in draws_lines)
    # The failing repetitions are exactly those whose seed draws >= 0.5.
    expected = []
    for i in range(REPEATS):
        random.seed(SEED + i)
        expected.append("pass" if random.random() < 0.5 else "fail")
    assert [o["outcome"] for o in odd_lines] == expected
    assert "pass" in expected and "fail" in expected  # the seed range exercises both
    for line in odd_lines:
        assert (line["message"] == "") == (line["outcome"] == "pass")
        assert line["duration"] >= 0
    assert process.returncode == 1
    # pytest itself reports every repetition.
    assert "%d failed, %d passed" % (expected.count("fail"), REPEATS + expected.count("pass")) in process.stdout


def test_a_repetition_replays_alone_from_its_seed(target_runner, tmp_path):
    _, draws, _ = run(target_runner, tmp_path, SEED + 3, 1)
    assert (draws[0]["random"], draws[0]["numpy"], draws[0]["torch"]) == expected_draws(SEED + 3)
