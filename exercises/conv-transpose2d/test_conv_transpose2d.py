"""Public sample tests: run with `torchdrill check conv-transpose2d` or
`pytest test_conv_transpose2d.py`.

They compare with PyTorch on a few fixed cases. The hidden checks go much further.
"""

import pytest
import torch
import torch.nn.functional as F

from conv_transpose2d import conv_transpose2d


def test_single_pixel_scatters_the_kernel():
    # One input pixel of value 2 at stride 1: the output is 2 * the kernel, not flipped.
    x = torch.tensor([[[[2.0]]]])
    w = torch.arange(6.0).reshape(1, 1, 2, 3)
    torch.testing.assert_close(conv_transpose2d(x, w), 2 * w)


def test_stride_spreads_the_copies():
    # Two pixels, stride 2, a 1x1 kernel: the copies land 2 apart with a zero in between.
    x = torch.tensor([[[[1.0, 3.0]]]])
    w = torch.full((1, 1, 1, 1), 5.0)
    torch.testing.assert_close(conv_transpose2d(x, w, stride=2),
                               torch.tensor([[[[5.0, 0.0, 15.0]]]]))


@pytest.mark.parametrize("kwargs", [
    {},
    {"stride": 2},
    {"stride": 2, "padding": 1, "output_padding": 1},
    {"dilation": 2},
    {"stride": (2, 1), "padding": (0, 1)},
])
def test_matches_pytorch(kwargs):
    torch.manual_seed(0)
    x, w, b = torch.randn(2, 3, 5, 5), torch.randn(3, 4, 3, 3), torch.randn(4)
    torch.testing.assert_close(conv_transpose2d(x, w, b, **kwargs),
                               F.conv_transpose2d(x, w, b, **kwargs), rtol=1e-4, atol=1e-4)


def test_groups():
    torch.manual_seed(1)
    x, w = torch.randn(1, 4, 4, 4), torch.randn(4, 3, 3, 3)
    torch.testing.assert_close(conv_transpose2d(x, w, groups=2),
                               F.conv_transpose2d(x, w, groups=2), rtol=1e-4, atol=1e-4)


def test_gradient_reaches_weight():
    torch.manual_seed(2)
    x = torch.randn(1, 2, 4, 4, dtype=torch.float64)
    w = torch.randn(2, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    conv_transpose2d(x, w, stride=2).sum().backward()
    w_ref = w.detach().clone().requires_grad_()
    F.conv_transpose2d(x, w_ref, stride=2).sum().backward()
    torch.testing.assert_close(w.grad, w_ref.grad)
