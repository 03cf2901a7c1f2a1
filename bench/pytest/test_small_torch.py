"""The small torch test of bench/capture_vs_flakefinder.sh: a seeded linear layer against its
float64 reference, asserted with torch.testing.assert_close."""
import torch


def test_linear_matches_float64_reference():
    layer = torch.nn.Linear(32, 16)
    x = torch.randn(8, 32)
    out = layer(x)
    ref = (x.double() @ layer.weight.double().T + layer.bias.double()).float()
    torch.testing.assert_close(out, ref)
