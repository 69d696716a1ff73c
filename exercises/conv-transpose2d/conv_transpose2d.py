"""Transposed 2-D convolution from scratch.

Implement `conv_transpose2d` with exactly the semantics of torch.nn.functional.conv_transpose2d,
without calling any built-in convolution, transposed convolution or F.fold (see README.md).
"""

import torch
import torch.nn.functional as F  # noqa: F401 - F.pad and F.unfold are allowed


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The adjoint of conv2d: every input pixel scatters a weighted copy of the kernel.

    Args:
        input:          (N, C_in, H, W) tensor, float32 or float64, any memory layout.
        weight:         (C_in, C_out // groups, kh, kw) tensor (note: C_in first), same dtype.
        bias:           (C_out,) tensor or None; bias[k] is added to every pixel of channel k.
        stride:         int or (sh, sw): input pixels land sh rows (sw columns) apart.
        padding:        int or (ph, pw): rows (columns) cropped off each side of the output.
        output_padding: int or (oh, ow): extra rows (columns) at the bottom (right);
                        oh < max(sh, dh) and ow < max(sw, dw).
        groups:         C_in and C_out are split into `groups` independent slices.
        dilation:       int or (dh, dw): spacing between kernel taps.

    Returns:
        (N, C_out, Ho, Wo) tensor with input's dtype, where
        Ho = (H - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1 (likewise Wo).
        Differentiable: autograd must carry gradients back to input, weight and bias.
        The arguments must not be modified.
    """
    # TODO: compute the output size, multiply by the filters, scatter each tap, crop.
    raise NotImplementedError("conv_transpose2d is not implemented yet")
