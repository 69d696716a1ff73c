"""Public sample tests: `torchdrill check conv2d-backward` or `pytest test_conv_backward.py`.

The reference gradients come from autograd here; your code must not use it.
"""

import pytest
import torch
import torch.nn.functional as F

from conv_backward import conv2d_backward


def autograd_reference(go, x, w, **kw):
    x = x.clone().requires_grad_()
    w = w.clone().requires_grad_()
    b = torch.zeros(w.shape[0], dtype=x.dtype, requires_grad=True)
    out = F.conv2d(x, w, b, **kw)
    return torch.autograd.grad(out, (x, w, b), go)


def test_one_pixel_by_hand():
    # 1x1 image, 1x1 kernel: out = w * x + b, so dx = w * go, dw = x * go, db = go.
    x = torch.tensor([[[[3.0]]]], dtype=torch.float64)
    w = torch.tensor([[[[2.0]]]], dtype=torch.float64)
    go = torch.tensor([[[[5.0]]]], dtype=torch.float64)
    gx, gw, gb = conv2d_backward(go, x, w)
    torch.testing.assert_close(gx, torch.tensor([[[[10.0]]]], dtype=torch.float64))
    torch.testing.assert_close(gw, torch.tensor([[[[15.0]]]], dtype=torch.float64))
    torch.testing.assert_close(gb, torch.tensor([5.0], dtype=torch.float64))


@pytest.mark.parametrize("kw", [
    {},
    {"stride": 2, "padding": 1},
    {"dilation": 2, "padding": 2},
])
def test_matches_autograd(kw):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 9, 9, dtype=torch.float64)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64)
    go = torch.randn_like(F.conv2d(x, w, **kw))
    for got, want in zip(conv2d_backward(go, x, w, **kw), autograd_reference(go, x, w, **kw)):
        torch.testing.assert_close(got, want)


def test_shapes_with_groups():
    x = torch.randn(2, 4, 8, 8, dtype=torch.float64)
    w = torch.randn(6, 2, 3, 3, dtype=torch.float64)
    go = torch.randn(2, 6, 4, 4, dtype=torch.float64)        # stride 2, padding 1: 8 -> 4
    gx, gw, gb = conv2d_backward(go, x, w, stride=2, padding=1, groups=2)
    assert gx.shape == x.shape and gw.shape == w.shape and gb.shape == (6,)
