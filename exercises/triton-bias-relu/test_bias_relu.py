"""Public sample tests: `torchdrill check triton-bias-relu` or `pytest test_bias_relu.py`.

Without a GPU they run the kernel in Triton's interpreter (TRITON_INTERPRET=1 must be set
before triton is imported, which this file does). Skipped when triton is not installed.
"""

import os

import pytest
import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
pytest.importorskip("triton")

from bias_relu import bias_relu  # noqa: E402 - after TRITON_INTERPRET is set

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def reference(x, bias):
    return torch.relu(x + bias.view(1, -1, 1, 1))


def test_by_hand():
    x = torch.tensor([[[[-1.0, 2.0]], [[0.5, -3.0]]]], device=DEVICE)
    got = bias_relu(x, torch.tensor([0.5, 1.0], device=DEVICE))
    torch.testing.assert_close(got, torch.tensor([[[[0.0, 2.5]], [[1.5, 0.0]]]], device=DEVICE))


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 8, 13, 11), (3, 2, 1, 1)])
def test_matches_pytorch(shape):
    torch.manual_seed(0)
    x = torch.randn(*shape, device=DEVICE)
    bias = torch.randn(shape[1], device=DEVICE)
    torch.testing.assert_close(bias_relu(x, bias), reference(x, bias))


def test_float16_keeps_dtype():
    torch.manual_seed(1)
    x = torch.randn(2, 4, 6, 6, device=DEVICE).half()
    bias = torch.randn(4, device=DEVICE).half()
    got = bias_relu(x, bias)
    assert got.dtype == torch.float16
    torch.testing.assert_close(got, reference(x, bias))
