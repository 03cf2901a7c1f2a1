"""What one repetition's reports mean: its outcome, whether its failure came from the environment
rather than the code, and whether the test drew from the global random generators."""

import random
import sys

# An exception (or one it was raised from) of these kinds says the machine lacked something:
# a network, a module, a GPU, memory (or that the controlled setting forbade an op). Matched on the class names in its MRO and on its message,
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
    # torch.use_deterministic_algorithms(True), set by the controlled setting, stops an op that
    # has no deterministic implementation: the failure is the setting's, not the test's.
    ("does not have a deterministic implementation", "nondeterministic-op"),
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
    when CUDA is initialised, every CUDA device), to tell whether a test drew from them.

    Read twice per repetition, so read cheaply. random: its Mersenne Twister (position and 624
    words) read in place and its cached Gaussian, which is all random.getstate() says, without the
    625-integer tuple. numpy, when its global generator was seeded right before the first of the
    two states compared (`seeded`, the plugin's repetitions): its words and position read in place
    (0.3 us) instead of numpy.random.get_state (30 us: it copies the words one by one); every draw
    moves the words or the position, and seeding clears the legacy state's cached Gaussian, so the
    two compare alike. Both states of a comparison are read the same way."""

    def __init__(self, seeded=False):
        words = _random_words()
        self.states = {"random": words if words is not None else random.getstate()}
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            words = _mt19937_words(numpy) if seeded else None
            if words is not None:
                self.states["numpy"] = words
            else:
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


def _validated_mt19937_layout(numpy, generator):
    """(generator, address) when its state read in place gives exactly its words and position."""
    import ctypes

    if type(generator).__name__ != "MT19937":
        return "unavailable"
    address = generator.ctypes.state_address
    raw = ctypes.string_at(address, _MT19937_BYTES)
    state = generator.state["state"]
    words = numpy.frombuffer(raw[: 624 * 4], dtype=numpy.uint32)
    position = int.from_bytes(raw[624 * 4:], sys.byteorder, signed=True)
    # (== and .all(): numpy.array_equal may be the capture's wrapper by now)
    if not (words.shape == state["key"].shape and (words == state["key"]).all()
            and position == state["pos"]):
        return "unavailable"
    return generator, address


# random's generator object, validated once: (instance, offset of `int index; uint32_t state[624]`
# after PyObject_HEAD in CPython's RandomObject), or "unavailable" (another layout or
# interpreter: random.getstate() is used then, for both states alike).
_RANDOM = None
_RANDOM_BYTES = 4 + 624 * 4


def _random_words():
    global _RANDOM
    try:
        generator = random.getstate.__self__
        if _RANDOM is None or (_RANDOM != "unavailable" and _RANDOM[0] is not generator):
            _RANDOM = _validated_random_layout(generator)
        if _RANDOM == "unavailable":
            return None
        import ctypes

        return ctypes.string_at(id(generator) + _RANDOM[1], _RANDOM_BYTES), generator.gauss_next
    except Exception:
        _RANDOM = "unavailable"
        return None


def _validated_random_layout(generator):
    """(generator, offset) when reading the C state in place gives exactly random.getstate()."""
    import ctypes
    import struct

    offset = 2 * struct.calcsize("P")  # PyObject_HEAD: reference count and type
    base = random.Random.__mro__[1]  # _random.Random, the C type
    if sys.implementation.name != "cpython" or base.__basicsize__ < offset + _RANDOM_BYTES:
        return "unavailable"
    raw = ctypes.string_at(id(generator) + offset, _RANDOM_BYTES)
    _, words, _ = generator.getstate()
    if struct.unpack_from("624I", raw, 4) + struct.unpack_from("i", raw) != words:
        return "unavailable"
    return generator, offset


# numpy's legacy global generator and the address of its mt19937_state {uint32 key[624]; int pos}
# (numpy/random/src/mt19937/mt19937.h, the same since numpy 1.17); "unavailable" when it cannot be
# read so (another bit generator, no ctypes): get_state is used then, for both states alike.
_MT19937 = None
_MT19937_BYTES = 624 * 4 + 4


def _mt19937_words(numpy):
    global _MT19937
    try:
        generator = numpy.random.mtrand._rand._bit_generator
        if _MT19937 is None or (_MT19937 != "unavailable" and _MT19937[0] is not generator):
            _MT19937 = _validated_mt19937_layout(numpy, generator)
        if _MT19937 == "unavailable":
            return None
        import ctypes

        return ctypes.string_at(_MT19937[1], _MT19937_BYTES)
    except Exception:
        _MT19937 = "unavailable"
        return None


class ReseedWatch:
    """Whether a test seeds a global generator itself (`torch.manual_seed(42)` at its top): then a
    value that never changes across the audit's per-run seeds is the test's own fixed draw, not a
    value other seeds could move. Wraps random.seed, numpy.random.seed and torch.manual_seed (of
    the libraries imported so far); the plugin's own seeding runs inside `own()`."""

    def __init__(self):
        self.seen = False
        self._own = False
        self._patched = []

    def patch(self):
        targets = [(random, "seed")]
        numpy = sys.modules.get("numpy")
        if numpy is not None and hasattr(numpy, "random"):
            targets.append((numpy.random, "seed"))
        torch = sys.modules.get("torch")
        if torch is not None and hasattr(torch, "manual_seed"):
            targets.append((torch, "manual_seed"))
        for owner, name in targets:
            original = getattr(owner, name, None)
            if original is None or getattr(original, "__flakescope_reseed__", False):
                continue
            setattr(owner, name, self._wrap(original))
            self._patched.append((owner, name, original))

    def _wrap(self, original):
        def seed(*args, **kwargs):
            if not self._own:
                self.seen = True
            return original(*args, **kwargs)

        seed.__flakescope_reseed__ = True
        seed.__wrapped__ = original
        return seed

    def own(self, function, *args):
        """Runs the plugin's own seeding without counting it."""
        self._own = True
        try:
            return function(*args)
        finally:
            self._own = False

    def unpatch(self):
        for owner, name, original in reversed(self._patched):
            setattr(owner, name, original)
        self._patched = []
