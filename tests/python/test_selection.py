"""What `flakescope audit --isolation inprocess` needs from the plugin besides repetition: a test
reading FLAKESCOPE_SEED sees its repetition's seed (as in a separate process), the selected node
ids are written before any test runs (FLAKESCOPE_COLLECTED), and a crashed process's unfinished
tests can be run alone (FLAKESCOPE_SELECT)."""
import json

from conftest import read_lines

IDS = ["test_target.py::test_first", "test_target.py::test_second", "test_target.py::test_third",
       "test_target.py::test_fourth"]


def run(target_runner, tmp_path, env, args=()):
    log = tmp_path / "log.jsonl"
    process = target_runner.run("select_target.py", env=dict(env, TARGET_LOG=str(log)), args=args)
    return process, read_lines(log)


def test_a_test_reading_the_seed_sees_its_repetitions_seed(target_runner, tmp_path):
    process, log = run(target_runner, tmp_path, {"FLAKESCOPE_SEED": "40", "FLAKESCOPE_REPEAT": "3"})
    assert process.returncode == 0, process.stdout + process.stderr
    assert [(line["test"], line["seed"]) for line in log if line["test"] == "first"] == [
        ("first", "40"), ("first", "41"), ("first", "42")]
    assert [line["seed"] for line in log if line["test"] == "third"] == ["40", "41", "42"]


def test_without_a_seed_the_environment_is_left_alone(target_runner, tmp_path):
    process, log = run(target_runner, tmp_path, {"FLAKESCOPE_REPEAT": "2"})
    assert process.returncode == 0, process.stdout + process.stderr
    assert [line["seed"] for line in log] == [None] * 8


def test_collected_ids_are_written_before_the_tests_run(target_runner, tmp_path):
    collected = tmp_path / "collected.json"
    process, _ = run(target_runner, tmp_path, {"FLAKESCOPE_COLLECTED": str(collected)},
                     args=["--deselect", IDS[1]])
    assert process.returncode == 0, process.stdout + process.stderr
    assert json.loads(collected.read_text()) == {"collected": [IDS[0], IDS[2], IDS[3]]}


def test_select_runs_only_the_listed_ids(target_runner, tmp_path):
    select, collected = tmp_path / "select.json", tmp_path / "collected.json"
    select.write_text(json.dumps([IDS[2], IDS[0], "test_target.py::test_not_there"]))
    outcomes = tmp_path / "outcomes.jsonl"
    process, log = run(target_runner, tmp_path, {
        "FLAKESCOPE_SELECT": str(select), "FLAKESCOPE_COLLECTED": str(collected),
        "FLAKESCOPE_OUTCOMES": str(outcomes), "FLAKESCOPE_SEED": "7", "FLAKESCOPE_REPEAT": "2"})
    assert process.returncode == 0, process.stdout + process.stderr
    # Collection order, not the list's order; an id that is not collected is ignored.
    assert json.loads(collected.read_text()) == {"collected": [IDS[0], IDS[2]]}
    assert [(line["test"], line["seed"]) for line in log] == [
        ("first", "7"), ("first", "8"), ("third", "7"), ("third", "8")]
    assert [(o["test"], o["repeat"]) for o in read_lines(outcomes)] == [
        (IDS[0], 0), (IDS[0], 1), (IDS[2], 0), (IDS[2], 1)]
    assert "2 deselected" in process.stdout


def test_an_unreadable_selection_is_a_usage_error(target_runner, tmp_path):
    select = tmp_path / "select.json"
    select.write_text("{not json")
    process, log = run(target_runner, tmp_path, {"FLAKESCOPE_SELECT": str(select)})
    assert process.returncode == 4  # pytest's usage error
    assert log == []
    assert "FLAKESCOPE_SELECT" in process.stderr


def test_progress_letters_wrap_at_the_screen_edge(target_runner, tmp_path):
    # Repetitions before the last skip pytest_runtest_logfinish (its progress code re-measured the
    # whole line on each call: quadratic in the repeat count), so the plugin wraps the line itself.
    process, log = run(target_runner, tmp_path, {"FLAKESCOPE_REPEAT": "300"})
    assert process.returncode == 0, process.stdout + process.stderr
    assert len(log) == 4 * 300
    assert "1200 passed" in process.stdout
    assert max(len(line) for line in process.stdout.splitlines()) <= 80


def test_ids_drawn_at_import_are_the_same_in_every_run(target_runner, tmp_path):
    """Process isolation pools a test's runs by id, and a replay command must find the failing id:
    every run imports the test module from the same generator state, whatever its seed."""
    def collected_ids(seed):
        collected = tmp_path / ("collected%s.json" % seed)
        process = target_runner.run("random_ids_target.py", env={
            "FLAKESCOPE_SEED": seed, "FLAKESCOPE_COLLECTED": str(collected)})
        assert process.returncode == 0, process.stdout + process.stderr
        return json.loads(collected.read_text())["collected"]

    first = collected_ids("1")
    assert len(first) == 5
    assert collected_ids("2") == first
    assert collected_ids("1000") == first


def test_an_inert_plugin_leaves_collection_unseeded(target_runner, tmp_path):
    ids = []
    for _ in range(2):
        process = target_runner.run("random_ids_target.py", args=["--collect-only"])
        assert process.returncode == 0, process.stdout + process.stderr
        ids.append([line for line in process.stdout.splitlines() if "::" in line])
    assert len(ids[0]) == 5 and ids[0] != ids[1]  # 5 draws from 10**6 agree by chance ~never
