"""Public sample tests: `torchdrill check conv2d-fix` or `pytest test_conv_fix.py`."""

import torch
import torch.nn.functional as F

from conv_fix import conv2d


def test_matches_functional_conv2d():
    torch.manual_seed(0)
    x, w, b = torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3), torch.randn(4)
    torch.testing.assert_close(conv2d(x, w, b, stride=2, padding=1),
                               F.conv2d(x, w, b, stride=2, padding=1))


def test_non_square_kernel():
    torch.manual_seed(1)
    x, w = torch.randn(1, 2, 7, 9), torch.randn(3, 2, 2, 5)
    torch.testing.assert_close(conv2d(x, w), F.conv2d(x, w))


def test_gradient_reaches_the_callers_weight():
    torch.manual_seed(2)
    x = torch.randn(1, 2, 6, 6)
    w = torch.randn(3, 2, 3, 3, requires_grad=True)
    conv2d(x, w).sum().backward()
    assert w.grad is not None, "no gradient reached the weight tensor that was passed in"
    w_ref = w.detach().clone().requires_grad_()
    F.conv2d(x, w_ref).sum().backward()
    torch.testing.assert_close(w.grad, w_ref.grad)
