"""gradcheck and gradgradcheck calls for the capture: a correct backward, a backward off by a
seeded error, fast mode, a backward that is not reentrant, and raise_exception=False."""
import torch
from torch.autograd import gradcheck


class Perturbed(torch.autograd.Function):
    """sin with a backward off by `scale` * a fixed pattern (the same on both passes)."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x.sin()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        pattern = torch.linspace(-1, 1, x.numel(), dtype=x.dtype).reshape(x.shape)
        return grad * (x.cos() + ctx.scale * pattern), None


class Noisy(torch.autograd.Function):
    """A backward that differs from pass to pass (as an atomicAdd's would)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.cos() + 1e-3 * torch.rand_like(x))


class OffPerInput(torch.autograd.Function):
    """x.sin() + y.cos() whose gradient is off by 1e-9 for x and by 1e-6 for y."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x.sin() + y.cos()

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * (x.cos() + 1e-9), grad * (-y.sin() + 1e-6)


def inputs(*shape):
    torch.manual_seed(0)
    return (torch.randn(*shape, dtype=torch.float64, requires_grad=True),)


def test_correct():
    assert gradcheck(torch.sin, inputs(5))  # site: correct


def test_off_by_a_known_error():
    torch.autograd.gradcheck(lambda x: Perturbed.apply(x, 2e-4), inputs(6), atol=1e-5)  # site: off


def test_fast_mode():
    gradcheck(lambda x: Perturbed.apply(x, 2e-4), inputs(6), atol=1e-5, fast_mode=True)  # site: fast


def test_not_reentrant():
    gradcheck(Noisy.apply, inputs(6), atol=1e-1)  # site: reentrant


def test_returns_false():
    assert not gradcheck(lambda x: Perturbed.apply(x, 1e-2), inputs(4), raise_exception=False)  # site: false


def test_gradgrad():
    torch.autograd.gradgradcheck(lambda x: x.pow(3), inputs(3))  # site: gradgrad


def test_second_input_off_by_more():
    x, y = inputs(3)[0], inputs(3)[0] * 2
    gradcheck(OffPerInput.apply, (x, y), atol=1e-12, rtol=0)  # site: second
