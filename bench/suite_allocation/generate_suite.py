"""Writes the benchmark suite of issue 17 into a folder: 300 pytest tests whose behaviour is known.

  200 deterministic   fixed inputs, plain asserts or assert_allclose, no random numbers drawn
   85 random inputs   numpy random inputs checked by assert_allclose or a threshold, never failing
   10 flaky           fail when a seeded draw is below p, p from 0.5% to 20%
    5 always failing

usage: generate_suite.py FOLDER [--scale S]   (S < 1 keeps that fraction of each group)
The flaky rates are written to FOLDER/expected.json for the benchmark to check what was found.
"""
import json
import os
import sys

FLAKY_RATES = [0.005, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.12, 0.15, 0.2]


def deterministic(i):
    if i % 2 == 0:
        return f"""
def test_det_{i:03d}():
    assert sum(k * k for k in range({i + 5})) == {sum(k * k for k in range(i + 5))}
"""
    return f"""
def test_det_{i:03d}():
    x = np.linspace(0.0, 1.0, 64) * {i}
    np.testing.assert_allclose(np.sqrt(x) ** 2, x, rtol=1e-9, atol=1e-12)
"""


def random_input(i):
    if i % 2 == 0:
        return f"""
def test_rand_{i:03d}():
    x = np.random.rand(32)
    y = (x * 3.0) / 3.0
    np.testing.assert_allclose(y, x, rtol=0, atol=1e-9)
"""
    return f"""
def test_rand_{i:03d}():
    x = np.random.rand(256)
    assert abs(x.mean() - 0.5) < 0.4
"""


def flaky(i, rate):
    return f"""
def test_flaky_{i:02d}():
    # fails in {100 * rate:g}% of seeds
    assert random.random() >= {rate!r}
"""


def always_failing(i):
    return f"""
def test_fail_{i}():
    assert {i} == {i} + 1
"""


def main(folder, scale=1.0):
    os.makedirs(folder, exist_ok=True)
    header = "import random\n\nimport numpy as np\n"
    groups = {
        "test_deterministic.py": [deterministic(i) for i in range(round(200 * scale))],
        "test_random_inputs.py": [random_input(i) for i in range(round(85 * scale))],
        "test_flaky.py": [flaky(i, r) for i, r in enumerate(FLAKY_RATES)],
        "test_failing.py": [always_failing(i) for i in range(max(1, round(5 * scale)))],
    }
    for name, bodies in groups.items():
        with open(os.path.join(folder, name), "w") as f:
            f.write(header + "".join(bodies))
    expected = {f"test_flaky.py::test_flaky_{i:02d}": r for i, r in enumerate(FLAKY_RATES)}
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump({"flaky": expected, "failing": [f"test_failing.py::test_fail_{i}"
                                                   for i in range(len(groups["test_failing.py"]))],
                   "tests": sum(len(b) for b in groups.values())}, f, indent=1)


if __name__ == "__main__":
    args = sys.argv[1:]
    scale = 1.0
    if "--scale" in args:
        k = args.index("--scale")
        scale = float(args[k + 1])
        del args[k : k + 2]
    if len(args) != 1:
        sys.exit(__doc__)
    main(args[0], scale)
