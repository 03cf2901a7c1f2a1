"""The same test ids in every run: test modules are imported from one generator state.

A module that draws its parameters at import (`@pytest.mark.parametrize("x", random.sample(...))`)
would otherwise get other test ids in every process, so `flakescope audit --isolation process`
could not pool a test's runs, and a failing id could not be replayed. While the plugin collects,
random, numpy and torch are seeded with COLLECTION_SEED before each test module is imported, and
numpy's global generator right after a test module imports numpy for the first time (it seeds
itself from the OS). torch needs no hook: a fresh process's generator starts from a fixed seed.
"""
import importlib.abc
import random
import sys

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


class _NumpyRandomFinder(importlib.abc.MetaPathFinder):
    """Seeds numpy's global generator as soon as numpy.random is executed."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "numpy.random":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _SeedingLoader(spec.loader)
                return spec
        return None


class _SeedingLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        try:
            module.seed(COLLECTION_SEED)
        except Exception:
            pass  # never break the import

    def __getattr__(self, name):  # get_source, get_filename, ... for tracebacks
        return getattr(self.loader, name)


def start():
    """From the plugin's configuration until collection is done."""
    if "numpy.random" not in sys.modules and not any(
            isinstance(f, _NumpyRandomFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _NumpyRandomFinder())


def stop():
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _NumpyRandomFinder)]
