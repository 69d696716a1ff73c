"""Public sample tests: `torchdrill check batchnorm2d` or `pytest test_batchnorm2d.py`.

The reference here is PyTorch's own nn.BatchNorm2d (your code must not use it).
"""

import pytest
import torch
from torch import nn

from batchnorm2d import BatchNorm2d


def _pair(**kw):
    torch.manual_seed(0)
    ref = nn.BatchNorm2d(3, dtype=torch.float64, **kw)
    if ref.affine:
        with torch.no_grad():
            ref.weight.uniform_(0.5, 1.5)
            ref.bias.uniform_(-1, 1)
    bn = BatchNorm2d(3, dtype=torch.float64, **kw)
    bn.load_state_dict(ref.state_dict())
    return bn, ref


def test_state_dict_keys():
    assert set(BatchNorm2d(3).state_dict()) == set(nn.BatchNorm2d(3).state_dict())
    assert set(BatchNorm2d(3, affine=False, track_running_stats=False).state_dict()) == set()


@pytest.mark.parametrize("kw", [{}, {"momentum": None}, {"affine": False}])
def test_train_steps_then_eval(kw):
    bn, ref = _pair(**kw)
    for step in range(3):
        x = torch.randn(4, 3, 5, 5, dtype=torch.float64) * 2 + 1
        torch.testing.assert_close(bn(x), ref(x))
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(bn.state_dict()[key], value)
    bn.eval(), ref.eval()
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    torch.testing.assert_close(bn(x), ref(x))


def test_backward_train():
    bn, ref = _pair()
    x = (torch.randn(4, 3, 5, 5, dtype=torch.float64) * 2 + 1).requires_grad_()
    go = torch.randn(4, 3, 5, 5, dtype=torch.float64)
    got = torch.autograd.grad(bn(x), (x, bn.weight, bn.bias), go)
    want = torch.autograd.grad(ref(x), (x, ref.weight, ref.bias), go)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w)
    assert issubclass(bn(x).grad_fn._forward_cls, torch.autograd.Function)


def test_not_4d():
    with pytest.raises(ValueError):
        BatchNorm2d(3)(torch.randn(4, 3, 5))
