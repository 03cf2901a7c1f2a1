"""The testing helpers of installed packages are captured: their module-level names bound to the
comparison functions before the plugin wrapped them are rebound too."""
import os

from conftest import HERE, PLUGIN_DIR, read_lines

HELPER = '''from torch.testing import assert_close as _assert_close


def check_close(actual, expected):
    _assert_close(actual, expected)
'''


def test_an_installed_testing_helper_is_captured(target_runner, tmp_path, tmp_path_factory):
    installed = tmp_path_factory.mktemp("site") / "pkgx"
    installed.mkdir()
    (installed / "__init__.py").write_text("")
    (installed / "testing.py").write_text(HELPER)
    capture = tmp_path / "capture.jsonl"
    result = target_runner.run("installed_helper_target.py",
                               env={"FLAKESCOPE_CAPTURE": str(capture),
                                    "PYTHONPATH": PLUGIN_DIR + os.pathsep + str(installed.parent)})
    assert "1 passed" in result.stdout, result.stdout + result.stderr
    with open(os.path.join(HERE, "targets", "installed_helper_target.py")) as f:
        number = [n for n, l in enumerate(f.read().splitlines(), 1) if "# site:installed" in l][0]
    (line,) = read_lines(capture)
    assert line["site"] == "test_target.py:%d" % number, line
    assert line["api"] == "torch.testing.assert_close" and line["passed"] is True
    assert line["via_function"] == "check_close", line


HELPER_MODULE = '''import torch


def assert_equal(a, b, prec=1e-5):
    nan_mask = a != a
    assert torch.equal(nan_mask, b != b)
    diff = (a - b).abs()
    diff[nan_mask] = 0
    max_err = diff.max().item()
    assert max_err <= prec
'''


def test_a_helper_modules_plain_asserts_are_captured(target_runner, tmp_path):
    """pytest rewrites only test files and conftests; a suite's helper module (a module with a
    "test" component in its name) is rewritten too, so its `assert max_err <= prec` is captured,
    and its NaN-mask check is not taken for the comparison."""
    package = tmp_path / "suite_tests"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "common.py").write_text(HELPER_MODULE)
    capture = tmp_path / "capture.jsonl"
    result = target_runner.run("helper_module_target.py", env={
        "FLAKESCOPE_CAPTURE": str(capture),
        "PYTHONPATH": PLUGIN_DIR + os.pathsep + str(tmp_path)})
    assert "1 passed" in result.stdout, result.stdout + result.stderr
    with open(os.path.join(HERE, "targets", "helper_module_target.py")) as f:
        number = [n for n, l in enumerate(f.read().splitlines(), 1) if "# site:helper" in l][0]
    (line,) = read_lines(capture)
    assert line["site"] == "test_target.py:%d" % number, line
    assert line["api"] == "threshold" and line["op"] == "<=" and line["threshold"] == 1e-6, line
    assert 0 < line["value"] < 1e-8, line
    assert line["via_function"] == "assert_equal", line
