"""A testing helper of an installed package (outside the rootdir) that bound assert_close when it
was imported, before the plugin wrapped it (kornia.testing's `from torch.testing import
assert_allclose`)."""
import torch

from pkgx.testing import check_close


def test_through_the_installed_helper():
    check_close(torch.ones(3), torch.ones(3) + 1e-7)  # site:installed
