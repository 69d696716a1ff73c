"""Quantised conv2d: int8 weights (symmetric, per output channel), uint8 activations (affine,
per tensor), exact integer accumulation, requantisation to uint8.

Every rounding is round half to even (torch.round). See README.md for the exact formulas.
torch's quantised tensors and kernels are not allowed.
"""

import torch
import torch.nn.functional as F  # noqa: F401 - F.pad is allowed (and F.conv2d in float64)


def quantize_weight(weight):
    """Symmetric int8 quantisation per output channel.

    Args:
        weight: (K, C, kh, kw) float32.

    Returns:
        (w_q, w_scale): w_q int8 (K, C, kh, kw) in [-127, 127]; w_scale float32 (K,) with
        w_scale[k] = max|weight[k]| / 127 (1.0 for an all-zero channel), and
        w_q = clamp(round(weight / w_scale[k]), -127, 127).
    """
    raise NotImplementedError("quantize_weight")


def activation_qparams(x):
    """Affine uint8 parameters from x's range stretched to contain 0.

    Returns:
        (scale, zero_point) as (Python float, Python int): lo = min(x.min(), 0),
        hi = max(x.max(), 0), scale = (hi - lo) / 255, zero_point = clamp(round(-lo / scale),
        0, 255); (1.0, 0) when x is all zeros.
    """
    raise NotImplementedError("activation_qparams")


def quantize_activation(x, scale, zero_point):
    """x_q = clamp(round(x / scale) + zero_point, 0, 255) as torch.uint8 (x's shape)."""
    raise NotImplementedError("quantize_activation")


def dequantize(q, scale, zero_point=0):
    """(q - zero_point) * scale as float32, for an integer tensor q (uint8 or int8)."""
    raise NotImplementedError("dequantize")


def conv2d_int32(x_q, x_zero_point, w_q, stride=1, padding=0):
    """The exact integer accumulator of a quantised conv2d.

    Args:
        x_q:          (N, C, H, W) uint8.
        x_zero_point: int in [0, 255].
        w_q:          (K, C, kh, kw) int8.
        stride, padding: int or (h, w) pair; padded pixels hold the zero point (a real 0).

    Returns:
        (N, K, Ho, Wo) torch.int32: sum over c, i, j of (xp - x_zero_point) * w_q, exact.
    """
    raise NotImplementedError("conv2d_int32")


def int8_conv2d(x_q, x_scale, x_zero_point, w_q, w_scale, bias, out_scale, out_zero_point,
                stride=1, padding=0):
    """Quantised conv2d: conv2d_int32, plus the bias quantised to int32
    (round(bias[k] / (x_scale * w_scale[k]))), requantised per output channel:
    clamp(round(acc * x_scale * w_scale[k] / out_scale) + out_zero_point, 0, 255).

    Args:
        x_q, x_scale, x_zero_point: uint8 (N, C, H, W) activations and their parameters.
        w_q, w_scale: int8 (K, C, kh, kw) weights and their float32 (K,) scales.
        bias: float32 (K,) or None.
        out_scale, out_zero_point: the output's parameters (float > 0, int in [0, 255]).
        stride, padding: int or (h, w) pair.

    Returns:
        (N, K, Ho, Wo) torch.uint8. The arguments are not modified.
    """
    raise NotImplementedError("int8_conv2d")
