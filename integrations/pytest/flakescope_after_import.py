"""A module's own code run, then ours: the import hook the plugin uses to patch a module the moment
it is executed (transformers' is_flaky, numpy's global generator), before anything imports names
from it."""
import importlib.abc
import sys


class AfterImport(importlib.abc.MetaPathFinder):
    """Calls `action(module)` right after any module named in `names` is executed."""

    def __init__(self, names, action):
        self.names = frozenset(names)
        self.action = action

    def find_spec(self, fullname, path, target=None):
        if fullname not in self.names:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _ThenLoader(spec.loader, self.action)
                return spec
        return None


class _ThenLoader(importlib.abc.Loader):
    def __init__(self, loader, action):
        self.loader = loader
        self.action = action

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        try:
            self.action(module)
        except Exception:
            pass  # never break the import

    def __getattr__(self, name):  # get_source, get_filename, ... for tracebacks
        return getattr(self.loader, name)


def install(hook):
    """Puts `hook` first on sys.meta_path unless a hook of its action is there already."""
    if not any(isinstance(f, AfterImport) and f.action is hook.action for f in sys.meta_path):
        sys.meta_path.insert(0, hook)


def remove(action):
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not (isinstance(f, AfterImport) and f.action is action)]
