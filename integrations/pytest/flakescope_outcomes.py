"""What one repetition's reports mean: its outcome, whether its failure came from the environment
rather than the code, and whether the test drew from the global random generators."""

import random
import sys

# An exception (or one it was raised from) of these kinds says the machine lacked something:
# a network, a module, a GPU, memory. Matched on the class names in its MRO and on its message,
# so that requests, urllib3, httpx and huggingface_hub are recognised without importing them.
_CLASS_KINDS = (
    ("OfflineModeIsEnabled", "hub-offline"),
    ("OutOfMemoryError", "out-of-memory"),
    ("MemoryError", "out-of-memory"),
    ("ModuleNotFoundError", "missing-module"),
    ("ImportError", "missing-module"),
    ("ConnectionError", "network"),
    ("ConnectTimeout", "network"),
    ("ReadTimeout", "network"),
    ("ConnectError", "network"),  # httpx
    ("gaierror", "network"),
    ("URLError", "network"),
    ("MaxRetryError", "network"),
    ("NewConnectionError", "network"),
)
_MESSAGE_KINDS = (
    ("offline mode", "hub-offline"),
    ("HF_HUB_OFFLINE", "hub-offline"),
    ("out of memory", "out-of-memory"),
    ("Torch not compiled with CUDA enabled", "no-cuda"),
    ("No CUDA GPUs are available", "no-cuda"),
    ("Found no NVIDIA driver", "no-cuda"),
    ("CUDA driver version is insufficient", "no-cuda"),
    ("couldn't connect to", "network"),
    ("Connection refused", "network"),
    ("Name or service not known", "network"),
    ("Temporary failure in name resolution", "network"),
    ("Network is unreachable", "network"),
    ("Max retries exceeded", "network"),
)


def environment_error(exc):
    """{"kind", "exception"} when `exc` (or its cause/context chain) is an environment error."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        kind = _kind_of(exc)
        if kind:
            cls = type(exc)
            name = cls.__name__ if cls.__module__ == "builtins" else cls.__module__ + "." + cls.__qualname__
            return {"kind": kind, "exception": name}
        exc = exc.__cause__ or exc.__context__
    return None


def _kind_of(exc):
    names = [c.__name__ for c in type(exc).__mro__]
    for name, kind in _CLASS_KINDS:
        if name in names:
            return kind
    try:
        text = str(exc)
    except Exception:
        return None
    for needle, kind in _MESSAGE_KINDS:
        if needle in text:
            return kind
    return None


def outcome_of(reports):
    """One repetition's outcome, first message line, xfail strictness and environment error."""
    outcome, message, environment = "pass", "", None
    for report in reports:
        xfail = hasattr(report, "wasxfail")
        if report.when == "call":
            if xfail:
                outcome = "xfail" if report.skipped else "xpass"
            elif report.failed:
                outcome = "fail"
            elif report.skipped:
                outcome = "skip"
        elif report.failed:
            outcome = "error"
        elif report.skipped and report.when == "setup":
            outcome = "xfail" if xfail else "skip"
        if (report.failed or report.skipped) and not message:
            message = _first_line(report)
        if report.failed and environment is None:
            environment = getattr(report, "flakescope_environment", None)
    return outcome, message, environment


def _first_line(report):
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # skip: (path, line, reason)
        text = str(longrepr[2])
    else:
        crash = getattr(longrepr, "reprcrash", None)
        text = crash.message if crash is not None else str(longrepr or "")
    return text.strip().splitlines()[0] if text.strip() else ""


def xfail_strict(item):
    """True/False for a test marked xfail (pytest's strictness rule), None otherwise."""
    for marker in item.iter_markers(name="xfail"):
        return bool(marker.kwargs.get("strict", item.config.getini("xfail_strict")))
    return None


class GeneratorStates:
    """The global generators' states at one moment (random, numpy's legacy global, torch CPU and,
    when CUDA is initialised, every CUDA device), to tell whether a test drew from them."""

    def __init__(self):
        self.states = {"random": random.getstate()}
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            state = numpy.random.get_state()
            self.states["numpy"] = (state[1].tobytes(),) + tuple(state[2:])
        torch = sys.modules.get("torch")
        if torch is not None and hasattr(torch, "get_rng_state"):
            self.states["torch"] = torch.get_rng_state().numpy().tobytes()
            if torch.cuda.is_initialized():
                self.states["cuda"] = [s.numpy().tobytes() for s in torch.cuda.get_rng_state_all()]

    def drew_since(self, before):
        """True when a generator moved; None when one appeared that `before` could not see."""
        for name, state in self.states.items():
            if name in before.states and before.states[name] != state:
                return True
        if set(self.states) - set(before.states):
            return None
        return False
