"""Public sample tests: run them with `pytest` in this folder. The hidden checks go further."""

import torch
import torch.nn.functional as F
from torch import nn

from separable import DepthwiseSeparableConv2d, conv_cost


def test_output_shape():
    layer = DepthwiseSeparableConv2d(8, 16, 3, padding=1)
    out = layer(torch.randn(2, 8, 10, 10))
    assert out.shape == (2, 16, 10, 10)


def test_submodules():
    layer = DepthwiseSeparableConv2d(4, 6, 3)
    assert isinstance(layer.depthwise, nn.Conv2d) and isinstance(layer.pointwise, nn.Conv2d)
    assert layer.depthwise.groups == 4
    assert layer.pointwise.kernel_size == (1, 1)


def test_forward_is_depthwise_then_pointwise():
    torch.manual_seed(0)
    layer = DepthwiseSeparableConv2d(3, 5, 3, padding=1)
    x = torch.randn(1, 3, 6, 6)
    dw, pw = layer.depthwise, layer.pointwise
    expected = F.conv2d(F.conv2d(x, dw.weight, dw.bias, padding=1, groups=3), pw.weight, pw.bias)
    torch.testing.assert_close(layer(x), expected)


def test_conv_cost_standard():
    # a 3x3 conv 64 -> 128 producing a 56x56 map
    assert conv_cost(64, 128, 3, 56) == (64 * 128 * 9 + 128, 64 * 128 * 9 * 56 * 56)


def test_conv_cost_separable_is_cheaper():
    params_std, macs_std = conv_cost(64, 128, 3, 56)
    params_sep, macs_sep = conv_cost(64, 128, 3, 56, separable=True)
    assert params_sep < params_std and macs_sep < macs_std
