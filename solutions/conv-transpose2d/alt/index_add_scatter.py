"""Correct, written another way: einsum for the products, one index_add for the scatter.

Every (tap, input pixel) pair gets the flat index of the output position it lands on in the
uncropped canvas; index_add (out of place) sums the contributions, then the canvas is cropped.
"""

import torch


def _pair(value):
    if isinstance(value, int):
        return value, value
    return tuple(value)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    N, C, H, W = input.shape
    G = groups
    Kg, kh, kw = weight.shape[1], weight.shape[2], weight.shape[3]
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    oh, ow = _pair(output_padding)
    dh, dw = _pair(dilation)
    Hf = (H - 1) * sh + dh * (kh - 1) + 1 + oh          # canvas before cropping
    Wf = (W - 1) * sw + dw * (kw - 1) + 1 + ow
    Ho, Wo = Hf - 2 * ph, Wf - 2 * pw                    # padding crops each side

    x5 = input.reshape(N, G, C // G, H, W)
    w5 = weight.reshape(G, C // G, Kg, kh, kw)
    contrib = torch.einsum("ngcyx,gckij->ngkijyx", x5, w5).reshape(N, G * Kg, -1)

    rows = torch.arange(kh)[:, None, None, None] * dh + torch.arange(H)[None, None, :, None] * sh
    cols = torch.arange(kw)[None, :, None, None] * dw + torch.arange(W)[None, None, None, :] * sw
    index = (rows * Wf + cols).reshape(-1)                # order (i, j, y, x), like contrib
    canvas = input.new_zeros(N, G * Kg, Hf * Wf).index_add(2, index, contrib)
    out = canvas.reshape(N, G * Kg, Hf, Wf)[:, :, ph:ph + Ho, pw:pw + Wo]
    if bias is not None:
        out = out + bias.view(1, G * Kg, 1, 1)
    return out
