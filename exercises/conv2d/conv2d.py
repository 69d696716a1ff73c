"""2-D convolution from scratch.

Implement `conv2d` with exactly the semantics of `torch.nn.functional.conv2d`, without calling
any built-in convolution (see README.md for what is allowed).
"""

import torch
import torch.nn.functional as F  # noqa: F401 - F.pad and F.unfold are allowed


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlate a batch of images with a bank of filters.

    Args:
        input:    (N, C, H, W) tensor, float32 or float64, any memory layout.
        weight:   (K, C // groups, kh, kw) tensor, same dtype as input.
        bias:     (K,) tensor or None; bias[k] is added to every pixel of output channel k.
        stride:   int or (sh, sw).
        padding:  int, (ph, pw), "valid" (no padding) or "same" (output H, W = input H, W;
                  stride must be 1; an odd total is padded one more on the right/bottom).
        dilation: int or (dh, dw): spacing between kernel taps.
        groups:   C and K are split into `groups` independent slices.

    Returns:
        (N, K, Ho, Wo) tensor with input's dtype, where
        Ho = (H + pad_top + pad_bottom - dh * (kh - 1) - 1) // sh + 1 (likewise Wo).
        Differentiable: autograd must carry gradients back to input, weight and bias.
        The arguments must not be modified.
    """
    # TODO: compute the output size, pad, gather the patches, multiply by the filters.
    raise NotImplementedError("conv2d is not implemented yet")
