"""Writes what each test saw (torch's initial seed, torch's and numpy's knobs) to TARGET_LOG."""
import json
import os
import random

import numpy as np
import torch


def _log(**fields):
    with open(os.environ["TARGET_LOG"], "a") as f:
        f.write(json.dumps(fields) + "\n")


def test_probe():
    matmul = torch.backends.cuda.matmul
    _log(initial_seed=torch.initial_seed(), draw=float(torch.rand(1)), numpy=float(np.random.rand()),
         random=random.random(), deterministic=torch.are_deterministic_algorithms_enabled(),
         cudnn_deterministic=torch.backends.cudnn.deterministic, cudnn_benchmark=torch.backends.cudnn.benchmark,
         tf32=bool(matmul.allow_tf32), cudnn_tf32=bool(torch.backends.cudnn.allow_tf32),
         threads=torch.get_num_threads(), omp=os.environ.get("OMP_NUM_THREADS"))


def test_no_draw():
    pass
