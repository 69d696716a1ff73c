"""Public sample tests: `torchdrill check depthwise-conv-triton` or `pytest test_depthwise_conv.py`.

Without a GPU they run the kernel in Triton's interpreter (TRITON_INTERPRET=1 must be set
before triton is imported, which this file does). Skipped when triton is not installed.
"""

import os

import pytest
import torch
import torch.nn.functional as F

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
pytest.importorskip("triton")

from depthwise_conv import depthwise_conv3x3  # noqa: E402 - after TRITON_INTERPRET is set

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def reference(x, weight, bias=None):
    return F.conv2d(x, weight, bias, padding=1, groups=x.shape[1])


def test_by_hand():
    x = torch.ones(1, 1, 3, 4, device=DEVICE)
    got = depthwise_conv3x3(x, torch.ones(1, 1, 3, 3, device=DEVICE))
    want = torch.tensor([[[[4.0, 6.0, 6.0, 4.0], [6.0, 9.0, 9.0, 6.0], [4.0, 6.0, 6.0, 4.0]]]],
                        device=DEVICE)
    torch.testing.assert_close(got, want)


@pytest.mark.parametrize("shape", [(1, 2, 5, 7), (2, 3, 17, 3), (1, 1, 1, 1)])
def test_matches_pytorch(shape):
    torch.manual_seed(0)
    x = torch.randn(*shape, device=DEVICE)
    weight = torch.randn(shape[1], 1, 3, 3, device=DEVICE)
    bias = torch.randn(shape[1], device=DEVICE)
    torch.testing.assert_close(depthwise_conv3x3(x, weight), reference(x, weight))
    torch.testing.assert_close(depthwise_conv3x3(x, weight, bias), reference(x, weight, bias))


def test_float16_keeps_dtype():
    torch.manual_seed(1)
    x = torch.randn(1, 2, 6, 6, device=DEVICE).half()
    weight = torch.randn(2, 1, 3, 3, device=DEVICE).half()
    got = depthwise_conv3x3(x, weight)
    assert got.dtype == torch.float16
    torch.testing.assert_close(got.float(), reference(x.float(), weight.float()),
                               rtol=1e-2, atol=1e-2)
