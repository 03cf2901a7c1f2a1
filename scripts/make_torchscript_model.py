#!/usr/bin/python3
"""Writes a small TorchScript model for `flakescope probe MODEL.pt` and its tests.

Run with Debian's /usr/bin/python3 (python3-torch 1.13) so the archive loads in the LibTorch the
project builds against:  /usr/bin/python3 scripts/make_torchscript_model.py OUT.pt [--train-mode]

The model takes a (N, 3, 16, 16) float batch and returns a tuple (logits, features), so the probe's
tuple flattening (out0, out1) is exercised. Weights come from a fixed seed, so the model computes
the same function every time it is generated (the archive bytes differ: zip metadata). With
--train-mode it is saved in training mode, so its dropout draws from the default generator when
probed.
"""
import argparse

import torch


class SmallNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.pool = torch.nn.AdaptiveAvgPool2d(4)
        self.dropout = torch.nn.Dropout(0.5)
        self.head = torch.nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        features = self.pool(torch.relu(self.conv(x))).flatten(1)
        return self.head(self.dropout(features)), features


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--train-mode", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(20261125)
    model = SmallNet()
    model.train(args.train_mode)
    torch.jit.script(model).save(args.out)


if __name__ == "__main__":
    main()
