"""With the capture on, passing plain asserts are captured without pytest formatting their
explanation (flakescope_pass_formatting); failing asserts keep pytest's whole message, and a plugin
of the user's that implements pytest_assertion_pass gets pytest's full explanation as before."""
import os

from conftest import HERE, read_lines

PASS_HOOK_CONFTEST = '''
import os


def pytest_assertion_pass(item, lineno, orig, expl):
    with open(os.environ["PASS_LOG"], "a") as f:
        f.write("%d|%s\\n" % (lineno, expl.replace("\\n", " ")))
'''


def site_lines():
    with open(os.path.join(HERE, "targets", "pass_formatting_target.py")) as f:
        text = f.read()
    return {line.split("# site:")[1].strip(): "test_target.py:%d" % number
            for number, line in enumerate(text.splitlines(), start=1) if "# site:" in line}


def run(target_runner, tmp_path):
    env = {"FLAKESCOPE_CAPTURE": str(tmp_path / "capture.jsonl"),
           "REPR_LOG": str(tmp_path / "repr.log"), "PASS_LOG": str(tmp_path / "pass.log")}
    result = target_runner.run("pass_formatting_target.py", env=env)
    assert "2 failed, 1 passed" in result.stdout, result.stdout + result.stderr
    return result, read_lines(tmp_path / "capture.jsonl")


def reprs(tmp_path):
    path = tmp_path / "repr.log"
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_passing_asserts_are_captured_without_their_explanation(target_runner, tmp_path):
    result, lines = run(target_runner, tmp_path)
    site = site_lines()
    passing = [l for l in lines if l["site"] == site["passing"]]
    assert len(passing) == 50 and all(l["passed"] and l["op"] == "<" for l in passing), passing[:2]
    (failing,) = [l for l in lines if l["site"] == site["failing"]]
    assert failing["passed"] is False
    # Both reached from the test's own line: no helper in between.
    assert "via" not in failing and "via" not in passing[0], (failing, passing[0])
    # Only the failing assert's message asked for Loud's repr.
    assert reprs(tmp_path) == 1
    # Failing asserts: pytest's message as without the capture.
    assert "assert 0.25 > 0.5" in result.stdout
    assert "Loud()" in result.stdout
    assert "At index 2 diff: 3 != 4" in result.stdout


def test_a_users_pass_hook_gets_the_full_explanation(target_runner, tmp_path):
    (tmp_path / "conftest.py").write_text(PASS_HOOK_CONFTEST)
    result, lines = run(target_runner, tmp_path)
    site = site_lines()
    assert len([l for l in lines if l["site"] == site["passing"]]) == 50
    explained = (tmp_path / "pass.log").read_text().splitlines()
    passing_line = int(site["passing"].split(":")[1])
    ours = [e for e in explained if e.startswith("%d|" % passing_line)]
    assert len(ours) == 50 and "Loud()" in ours[0], explained[:3]
    assert reprs(tmp_path) == 51  # 50 passing explanations and the failure
    assert "At index 2 diff: 3 != 4" in result.stdout


def test_a_passing_assert_keeps_no_object_alive(target_runner, tmp_path):
    """Formatting a passing assert calls locals(), which before Python 3.13 caches every local
    on the frame: a test checking that an object was freed failed under the capture."""
    env = {"FLAKESCOPE_CAPTURE": str(tmp_path / "capture.jsonl")}
    result = target_runner.run("freed_objects_target.py", env=env)
    assert "3 passed" in result.stdout, result.stdout + result.stderr
    with_a_users_hook = tmp_path / "conftest.py"
    with_a_users_hook.write_text(PASS_HOOK_CONFTEST)
    env["PASS_LOG"] = str(tmp_path / "pass.log")
    result = target_runner.run("freed_objects_target.py", env=env)
    assert "3 passed" in result.stdout, result.stdout + result.stderr
