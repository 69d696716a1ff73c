"""Public sample tests: `torchdrill check int8-conv` or `pytest test_int8_conv.py`."""

import torch
import torch.nn.functional as F

from int8_conv import (activation_qparams, conv2d_int32, dequantize, int8_conv2d,
                       quantize_activation, quantize_weight)


def test_readme_example():
    w_q, w_scale = quantize_weight(torch.tensor([[[[0.5, -1.27]]]]))
    assert w_q.dtype == torch.int8 and w_q.tolist() == [[[[50, -127]]]]
    torch.testing.assert_close(w_scale, torch.tensor([0.01]))
    scale, zp = activation_qparams(torch.tensor([-0.5, 1.0, 3.0]))
    assert abs(scale - 3.5 / 255) < 1e-9 and zp == 36
    got = quantize_activation(torch.tensor([-2.0, 0.01, 0.1, 10.0]), 0.02, 50)
    assert got.dtype == torch.uint8 and got.tolist() == [0, 50, 55, 255]
    x_q = torch.full((1, 1, 1, 2), 60, dtype=torch.uint8)
    acc = conv2d_int32(x_q, 50, w_q)
    assert acc.dtype == torch.int32 and acc.tolist() == [[[[-770]]]]
    assert int8_conv2d(x_q, 0.02, 50, w_q, w_scale, None, 0.1, 100).tolist() == [[[[98]]]]


def test_round_half_to_even():
    x = torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5]) * 0.25
    assert quantize_activation(x, 0.25, 10).tolist() == [10, 12, 12, 10, 8]


def test_dequantize_uint8():
    q = torch.tensor([0, 100, 255], dtype=torch.uint8)
    torch.testing.assert_close(dequantize(q, 0.5, 100), torch.tensor([-50.0, 0.0, 77.5]))


def test_pipeline_close_to_float():
    torch.manual_seed(0)
    x, w = torch.randn(1, 3, 6, 6), torch.randn(4, 3, 3, 3) * 0.3
    w_q, w_scale = quantize_weight(w)
    xs, xz = activation_qparams(x)
    x_q = quantize_activation(x, xs, xz)
    out_scale, out_zp = 0.05, 128
    out = int8_conv2d(x_q, xs, xz, w_q, w_scale, None, out_scale, out_zp, padding=1)
    assert out.dtype == torch.uint8 and out.shape == (1, 4, 6, 6)
    ref = F.conv2d(dequantize(x_q, xs, xz), w_q.float() * w_scale.view(-1, 1, 1, 1), padding=1)
    ref = ref.clamp(-out_zp * out_scale, (255 - out_zp) * out_scale)
    assert (dequantize(out, out_scale, out_zp) - ref).abs().max() <= out_scale * 1.0001
