"""Public sample tests: run with `torchdrill check winograd-conv` or `pytest test_winograd.py`.

They compare with PyTorch on a few fixed cases. The hidden checks go much further.
"""

import pytest
import torch
import torch.nn.functional as F

from winograd import transform_filter, transform_input, winograd_conv2d, winograd_transforms


def test_one_tile_by_hand():
    # One 4x4 tile and a 3x3 filter: A^T [(G g G^T) ⊙ (B^T d B)] A is the 2x2 valid output.
    BT, G, AT = (m.double() for m in winograd_transforms())
    d = torch.arange(16.0, dtype=torch.float64).reshape(4, 4)
    g = torch.tensor([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=torch.float64)  # Sobel
    y = AT @ ((G @ g @ G.T) * (BT @ d @ BT.T)) @ AT.T
    torch.testing.assert_close(y, F.conv2d(d[None, None], g[None, None])[0, 0])


def test_helper_shapes():
    assert transform_filter(torch.randn(4, 3, 3, 3)).shape == (4, 3, 4, 4)
    assert transform_input(torch.randn(2, 3, 5, 5, 4, 4)).shape == (2, 3, 5, 5, 4, 4)


@pytest.mark.parametrize("size, padding", [(6, 0), (7, 0), (6, 1), (5, 2)])
def test_matches_pytorch_float64(size, padding):
    torch.manual_seed(0)
    x = torch.randn(2, 3, size, size + 1, dtype=torch.float64)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64)
    torch.testing.assert_close(winograd_conv2d(x, w, padding=padding),
                               F.conv2d(x, w, padding=padding), rtol=1e-10, atol=1e-10)


def test_float32():
    torch.manual_seed(1)
    x, w = torch.randn(1, 8, 9, 9), torch.randn(5, 8, 3, 3)
    out = winograd_conv2d(x, w, padding=1)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, F.conv2d(x, w, padding=1), rtol=1e-4, atol=1e-4)
