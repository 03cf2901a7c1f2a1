"""The determinism knobs of one flakescope setting, applied inside the test process.

`flakescope audit` names the setting of a run in FLAKESCOPE_SETTING ("controlled", "free",
"free:threads+deterministic"); the environment variables it also sets (OMP_NUM_THREADS,
CUBLAS_WORKSPACE_CONFIG, ...) reach a process before it starts, but torch's own switches
(deterministic algorithms, cuDNN, TF32, the intra-op thread count) can only be set from inside it.
This module sets them before each repetition and reads them back from torch for the report.

"controlled" contains everything transformers' `enable_full_determinism` does
(CUDA_LAUNCH_BLOCKING=1, CUBLAS_WORKSPACE_CONFIG, use_deterministic_algorithms(True),
cudnn.deterministic=True, cudnn.benchmark=False) plus TF32 off and one intra-op thread.
"""

import os

import pytest

KNOBS = ("deterministic", "cudnn", "tf32", "cublas_workspace", "generator", "threads", "batch", "uninit")
_CUBLAS_CONTROLLED = ":4096:8"  # as flakescope's run environment sets it


def parse_setting(name):
    """The set of free knobs of a setting name, as flakescope writes them."""
    if name in ("", "controlled"):
        return frozenset()
    if name == "free":
        return frozenset(KNOBS)
    if name.startswith("free:"):
        knobs = frozenset(name[len("free:"):].split("+"))
        unknown = sorted(knobs - set(KNOBS))
        if not unknown:
            return knobs
    else:
        unknown = [name]
    raise pytest.UsageError(
        "flakescope: unknown setting %r in FLAKESCOPE_SETTING (knobs: %s)" % (name, ", ".join(unknown)))


def _mix(x):
    """splitmix64, as flakescope's C++ free_thread_count uses it."""
    mask = 2**64 - 1
    x = (x + 0x9E3779B97F4A7C15) & mask
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & mask
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & mask
    return x ^ (x >> 31)


def thread_count(free, seed):
    """The intra-op thread count of a repetition: 1 when controlled; with threads free the count
    flakescope gives a process run with this seed (1..4), so both isolations agree."""
    if "threads" not in free:
        return 1
    if seed is None:
        return os.cpu_count() or 1
    return 1 + _mix(seed % 2**64) % 4


def apply_process_level(free):
    """Process-level knobs, before torch initialises CUDA. An audit already put them in the
    environment; this covers a plain pytest run with the plugin (`--flakescope-runs`)."""
    if "cublas_workspace" not in free:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", _CUBLAS_CONTROLLED)
    if "deterministic" not in free:
        os.environ.setdefault("CUDA_LAUNCH_BLOCKING", "1")


def apply(free, threads):
    """Sets the repetition's knobs: the thread variables always (a torch-free test may read
    them), torch's switches when the tests have imported torch (importing it here would cost a
    torch-free suite a second per process)."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(name) != str(threads):  # (each assignment is a putenv)
            os.environ[name] = str(threads)
    torch = _torch()
    if torch is None:
        return
    deterministic = "deterministic" not in free
    try:
        torch.use_deterministic_algorithms(deterministic, warn_only=False)
    except TypeError:  # torch < 1.11 has no warn_only (and never warns only)
        torch.use_deterministic_algorithms(deterministic)
    cudnn = torch.backends.cudnn
    cudnn.deterministic = "cudnn" not in free
    cudnn.benchmark = "cudnn" in free
    _set_tf32(torch, "tf32" in free)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


_FP32_PRECISION = {}  # id(matmul object) -> (object, whether it has fp32_precision)


def _has_fp32_precision(matmul):
    # Asked before every repetition: cached, since on torch 1.13 the answer is an exception
    # (its matmul object raises AssertionError, not AttributeError, for unknown names).
    known = _FP32_PRECISION.get(id(matmul))
    if known is not None and known[0] is matmul:
        return known[1]
    try:
        getattr(matmul, "fp32_precision")
        found = True
    except Exception:
        found = False
    _FP32_PRECISION[id(matmul)] = (matmul, found)
    return found


def _set_tf32(torch, allow):
    matmul = torch.backends.cuda.matmul
    if _has_fp32_precision(matmul):
        # torch 2.9+: the fp32-precision API; mixing it with the legacy flags is an error there.
        precision = "tf32" if allow else "ieee"
        matmul.fp32_precision = precision
        torch.backends.cudnn.conv.fp32_precision = precision
        torch.backends.cudnn.rnn.fp32_precision = precision
    else:
        matmul.allow_tf32 = allow
        torch.backends.cudnn.allow_tf32 = allow


def read_back():
    """What is in force now, read from torch (None when the tests never imported torch)."""
    torch = _torch()
    out = {
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "CUBLAS_WORKSPACE_CONFIG": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
        "CUDA_LAUNCH_BLOCKING": os.environ.get("CUDA_LAUNCH_BLOCKING"),
    }
    if torch is None:
        out["torch"] = None
        return out
    state = {
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "num_threads": torch.get_num_threads(),
    }
    warn_only = getattr(torch, "is_deterministic_algorithms_warn_only_enabled", None)
    state["deterministic_warn_only"] = bool(warn_only()) if warn_only else False
    matmul = torch.backends.cuda.matmul
    if _has_fp32_precision(matmul):
        state["tf32_matmul"] = matmul.fp32_precision == "tf32"
        state["tf32_cudnn"] = torch.backends.cudnn.conv.fp32_precision == "tf32"
    else:
        state["tf32_matmul"] = bool(matmul.allow_tf32)
        state["tf32_cudnn"] = bool(torch.backends.cudnn.allow_tf32)
    state["version"] = str(torch.__version__)
    out["torch"] = state
    return out


def _torch():
    import sys

    torch = sys.modules.get("torch")
    return torch if torch is not None and hasattr(torch, "use_deterministic_algorithms") else None
