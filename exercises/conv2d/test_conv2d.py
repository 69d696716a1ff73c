"""Public sample tests: run with `torchdrill check conv2d` or `pytest test_conv2d.py`.

They compare with PyTorch on a few fixed cases. The hidden checks go much further.
"""

import pytest
import torch
import torch.nn.functional as F

from conv2d import conv2d


def test_single_channel_by_hand():
    # A 2x2 all-ones kernel over a 3x3 ramp: each output sums one 2x2 window.
    x = torch.arange(9.0).reshape(1, 1, 3, 3)
    w = torch.ones(1, 1, 2, 2)
    expected = torch.tensor([[[[8.0, 12.0], [20.0, 24.0]]]])
    torch.testing.assert_close(conv2d(x, w), expected)


def test_is_cross_correlation_not_flipped():
    # An asymmetric kernel tells cross-correlation (PyTorch) from textbook convolution.
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    w = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])  # picks the top-left pixel of each window
    torch.testing.assert_close(conv2d(x, w), x[:, :, :3, :3])


@pytest.mark.parametrize("kwargs", [
    {},
    {"stride": 2, "padding": 1},
    {"padding": "same"},
    {"dilation": 2},
])
def test_matches_pytorch(kwargs):
    torch.manual_seed(0)
    x, w, b = torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3), torch.randn(4)
    torch.testing.assert_close(conv2d(x, w, b, **kwargs), F.conv2d(x, w, b, **kwargs),
                               rtol=1e-4, atol=1e-4)


def test_groups():
    torch.manual_seed(1)
    x, w = torch.randn(1, 4, 6, 6), torch.randn(6, 2, 3, 3)
    torch.testing.assert_close(conv2d(x, w, groups=2), F.conv2d(x, w, groups=2),
                               rtol=1e-4, atol=1e-4)


def test_gradient_reaches_weight():
    torch.manual_seed(2)
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    conv2d(x, w).sum().backward()
    w_ref = w.detach().clone().requires_grad_()
    F.conv2d(x, w_ref).sum().backward()
    torch.testing.assert_close(w.grad, w_ref.grad)
