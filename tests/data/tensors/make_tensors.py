#!/usr/bin/python3
"""Writes the small tensor files that the reader tests load, with an independent writer for each
format (numpy for .npy, the safetensors package for .safetensors, torch.save for .pt), and
expected.json: for every file and tensor the dtype, shape and values in C order as numpy sees them.

Run with Debian's interpreter from this folder's parent or anywhere:
    /usr/bin/python3 tests/data/tensors/make_tensors.py
Needs numpy; safetensors (pip) and torch are used when importable. The outputs are committed.
It also refreshes the seed corpora of the fuzz targets (tests/fuzz/corpus/npy, /safetensors).
"""
import io
import json
import os
import shutil

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
expected = {}


def record(file, name, arr, dtype=None):
    """Values as float64 in C order; `dtype` names the file's dtype when numpy has none (bf16)."""
    a = np.asarray(arr)
    dtype = dtype or {"float64": "float64", "float32": "float32", "float16": "float16", "int64": "int64",
             "int32": "int32", "int16": "int16", "int8": "int8", "uint8": "uint8",
             "bool": "bool"}[a.dtype.name]
    values = [float(v) for v in np.ascontiguousarray(a).reshape(-1).astype(np.float64)]
    expected.setdefault(file, []).append(
        {"name": name, "dtype": dtype, "shape": list(a.shape), "values": values})


def save_npy(file, arr, version=None):
    with open(os.path.join(HERE, file), "wb") as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=False)
    record(file, "", arr)


rng = np.random.default_rng(20261125)
save_npy("f32_c.npy", (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3))
save_npy("f64_big_endian.npy", rng.standard_normal(5).astype(">f8"))
save_npy("i32_fortran.npy", np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4)))
save_npy("i16_fortran_big_endian.npy",
         np.asfortranarray((np.arange(6, dtype=np.int16) - 3).reshape(3, 2)).astype(">i2"))
save_npy("f16.npy", np.array([0.1, -2.5, 65504, 6e-8], dtype=np.float16))
save_npy("bool.npy", np.array([[True, False], [False, True]]))
save_npy("u8.npy", np.arange(250, 256, dtype=np.uint8))
save_npy("i8.npy", np.array([-128, -1, 0, 127], dtype=np.int8))
save_npy("i64_scalar.npy", np.array(-(2**40), dtype=np.int64))
save_npy("f32_empty.npy", np.zeros((0, 3), dtype=np.float32))
save_npy("f32_v2.npy", np.linspace(0, 1, 7, dtype=np.float32), version=(2, 0))
save_npy("f64_v3.npy", rng.standard_normal((2, 2)), version=(3, 0))

try:
    from safetensors.numpy import save_file
    tensors = {
        "weight": rng.standard_normal((3, 4)).astype(np.float32),
        "bias": np.arange(4, dtype=np.float64),
        "steps": np.array([1, 2, 3], dtype=np.int64),
        "mask": np.array([True, False, True]),
        "half": np.array([1.5, -0.25], dtype=np.float16),
        "empty": np.zeros((2, 0), dtype=np.int32),
        "scalar": np.array(7, dtype=np.int16),
    }
    save_file(tensors, os.path.join(HERE, "mixed.safetensors"), metadata={"format": "np"})
    for name in sorted(tensors):
        record("mixed.safetensors", name, tensors[name])
except ImportError:
    print("safetensors not importable: mixed.safetensors left as it is")

try:
    import torch
    from safetensors.torch import save_file as save_torch
    bf = torch.tensor([1.0, -3.140625, 256.0], dtype=torch.bfloat16)
    save_torch({"bf16": bf}, os.path.join(HERE, "bf16.safetensors"))
    record("bf16.safetensors", "bf16", bf.to(torch.float64).numpy(), dtype="bfloat16")

    g = torch.Generator().manual_seed(5)
    t = torch.randn(2, 3, generator=g)
    torch.save(t, os.path.join(HERE, "torch_tensor.pt"))
    record("torch_tensor.pt", "", t.numpy())
    pair = [torch.arange(3, dtype=torch.int64), torch.tensor([[True], [False]])]
    torch.save(pair, os.path.join(HERE, "torch_list.pt"))
    for i, x in enumerate(pair):
        record("torch_list.pt", str(i), x.numpy())
    torch.save(tuple(pair), os.path.join(HERE, "torch_tuple.pt"))
    for i, x in enumerate(pair):
        record("torch_tuple.pt", str(i), x.numpy())
    d = {"out": torch.randn(4, generator=g, dtype=torch.float64),
         "half": torch.tensor([0.5, 2.0], dtype=torch.float16)}
    torch.save(d, os.path.join(HERE, "torch_dict.pt"))
    for k in sorted(d):
        record("torch_dict.pt", k, d[k].numpy())
    # A transposed (non-contiguous) tensor is saved with its strides; the reader must give C order.
    tr = torch.arange(6, dtype=torch.float32).reshape(2, 3).t()
    torch.save(tr, os.path.join(HERE, "torch_transposed.pt"))
    record("torch_transposed.pt", "", tr.contiguous().numpy())
    torch.save({"n": 3, "t": torch.zeros(1)}, os.path.join(HERE, "torch_not_tensor.pt"))
    # A one-entry dict pickles with SETITEM, an opcode LibTorch's unpickler does not implement.
    torch.save({"not": "a tensor"}, os.path.join(HERE, "torch_unsupported_pickle.pt"))
except ImportError:
    print("torch or safetensors.torch not importable: torch files left as they are")

with open(os.path.join(HERE, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")

for fmt, ext in (("npy", ".npy"), ("safetensors", ".safetensors")):
    corpus = os.path.join(REPO, "tests", "fuzz", "corpus", fmt)
    os.makedirs(corpus, exist_ok=True)
    for file in sorted(os.listdir(HERE)):
        if file.endswith(ext):
            shutil.copyfile(os.path.join(HERE, file), os.path.join(corpus, "seed_" + file))
