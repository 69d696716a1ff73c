"""Public sample tests: run them with `pytest` in this folder. The hidden checks go further."""

import copy

import torch
from torch import nn

from fold import fold_conv_bn


def _bn_with_stats(channels):
    bn = nn.BatchNorm2d(channels)
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    return bn.eval()


def test_matches_conv_then_bn():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, padding=1).eval()
    bn = _bn_with_stats(4)
    x = torch.randn(2, 3, 8, 8)
    folded = fold_conv_bn(conv, bn)
    torch.testing.assert_close(folded(x), bn(conv(x)), rtol=1e-4, atol=1e-5)


def test_returns_a_conv_with_bias():
    conv = nn.Conv2d(3, 4, 3, bias=False)
    folded = fold_conv_bn(conv, _bn_with_stats(4))
    assert isinstance(folded, nn.Conv2d)
    assert folded.bias is not None


def test_leaves_conv_alone():
    conv = nn.Conv2d(3, 4, 3)
    before = copy.deepcopy(conv.state_dict())
    fold_conv_bn(conv, _bn_with_stats(4))
    for name, value in conv.state_dict().items():
        assert torch.equal(value, before[name]), name
