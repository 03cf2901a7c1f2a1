"""The same test ids in every run: test modules are imported from one generator state.

A module that draws its parameters at import (`@pytest.mark.parametrize("x", random.sample(...))`)
would otherwise get other test ids in every process, so `flakescope audit --isolation process`
could not pool a test's runs, and a failing id could not be replayed. While the plugin collects,
random, numpy and torch are seeded with COLLECTION_SEED before each test module is imported, and
numpy's global generator right after a test module imports numpy for the first time (it seeds
itself from the OS). torch needs no hook: a fresh process's generator starts from a fixed seed.
"""
import random
import sys

import flakescope_after_import

COLLECTION_SEED = 0


def seed_generators():
    """Seeds the generators of the libraries imported so far (importing none)."""
    random.seed(COLLECTION_SEED)
    numpy = sys.modules.get("numpy")
    if numpy is not None and hasattr(numpy, "random"):
        numpy.random.seed(COLLECTION_SEED)
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "random"):
        torch.random.default_generator.manual_seed(COLLECTION_SEED)


def _seed_numpy_random(module):
    module.seed(COLLECTION_SEED)


def start():
    """From the plugin's configuration until collection is done."""
    if "numpy.random" not in sys.modules:
        flakescope_after_import.install(
            flakescope_after_import.AfterImport({"numpy.random"}, _seed_numpy_random))


def stop():
    flakescope_after_import.remove(_seed_numpy_random)
