"""Public sample tests: `torchdrill check max-pool2d` or `pytest test_max_pool2d.py`.

The reference here is PyTorch's own F.max_pool2d (your code must not use it).
"""

import pytest
import torch
import torch.nn.functional as F

from max_pool2d import max_pool2d


def test_readme_example():
    x = torch.tensor([[[[1., 3., 2., 0.],
                        [3., 1., 4., 4.],
                        [0., 2., 1., 1.],
                        [5., 0., 1., 6.]]]], requires_grad=True)
    out, idx = max_pool2d(x, 2, return_indices=True)
    torch.testing.assert_close(out.detach(), torch.tensor([[[[3., 4.], [5., 6.]]]]))
    assert idx.dtype == torch.int64
    assert idx.tolist() == [[[[1, 6], [12, 15]]]]
    out.sum().backward()
    expected = torch.zeros(4, 4)
    expected[0, 1] = expected[1, 2] = expected[3, 0] = expected[3, 3] = 1
    torch.testing.assert_close(x.grad[0, 0], expected)


@pytest.mark.parametrize("kw", [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 1, "padding": 1},
    {"kernel_size": 3, "stride": 2, "dilation": 2},
    {"kernel_size": 2, "ceil_mode": True},
    {"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 0)},
])
def test_matches_pytorch(kw):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 9, 9, dtype=torch.float64, requires_grad=True)
    want, want_idx = F.max_pool2d(x, return_indices=True, **kw)
    got, got_idx = max_pool2d(x, return_indices=True, **kw)
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    assert torch.equal(got_idx, want_idx)
    go = torch.randn_like(want)
    (want_grad,) = torch.autograd.grad(want, x, go)
    (got_grad,) = torch.autograd.grad(got, x, go)
    torch.testing.assert_close(got_grad, want_grad)


def test_grad_fn_is_yours():
    x = torch.randn(1, 2, 6, 6, requires_grad=True)
    out = max_pool2d(x, 2)
    assert issubclass(out.grad_fn._forward_cls, torch.autograd.Function)


def test_padding_too_large():
    with pytest.raises(ValueError):
        max_pool2d(torch.randn(1, 1, 8, 8), 3, padding=2)
