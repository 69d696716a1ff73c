"""Max pooling with F.unfold (im2col) forward and F.fold (col2im) backward.

Forward: -inf padding by hand (F.unfold's own padding is zeros), then F.unfold with the
dilation and stride gives (N*C, kh*kw, L) columns with the taps in row-major order; argmax
over the taps picks the first maximum. Backward: a one-hot column tensor holding each
gradient at its argmax tap, folded back with F.fold (which sums overlapping windows), then
cropped to the unpadded input.
"""

import torch
import torch.nn.functional as F

_NEG = float("-inf")


def _two(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


class MaxPoolUnfold(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, kernel, stride, padding, dilation, ceil_mode):
        N, C, H, W = input.shape
        sizes = []
        for n, k, s, p, d in zip((H, W), kernel, stride, padding, dilation):
            if 2 * p > k:
                raise ValueError(f"padding {p} is more than half of kernel {k}")
            num = n + 2 * p - d * (k - 1) - 1
            o = (num + s - 1) // s + 1 if ceil_mode else num // s + 1
            if ceil_mode and (o - 1) * s >= n + p:
                o -= 1
            if o < 1:
                raise ValueError(f"input of size {n} is too small for the window")
            sizes.append(o)
        (oh, ow), (kh, kw), (sh, sw), (ph, pw), (dh, dw) = sizes, kernel, stride, padding, dilation
        Hp = max((oh - 1) * sh + dh * (kh - 1) + 1, H + ph)
        Wp = max((ow - 1) * sw + dw * (kw - 1) + 1, W + pw)
        xp = input.new_full((N * C, 1, Hp, Wp), _NEG)
        xp[:, 0, ph:ph + H, pw:pw + W] = input.reshape(N * C, H, W)
        cols = F.unfold(xp, (kh, kw), dilation=(dh, dw), stride=(sh, sw))   # (NC, kh*kw, L)
        cols = cols.view(N * C, kh * kw, -1)[:, :, :]
        L_h = (Hp - dh * (kh - 1) - 1) // sh + 1
        L_w = (Wp - dw * (kw - 1) - 1) // sw + 1
        cols = cols.view(N * C, kh * kw, L_h, L_w)[:, :, :oh, :ow]
        arg = cols.argmax(dim=1)                                             # (NC, oh, ow)
        out = cols.gather(1, arg.unsqueeze(1)).squeeze(1)
        i, j = arg // kw, arg % kw
        r = torch.arange(oh).view(oh, 1) * sh + i * dh - ph
        c = torch.arange(ow).view(1, ow) * sw + j * dw - pw
        idx = (r * W + c).view(N, C, oh, ow)
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(arg)
        ctx.geometry = (N, C, H, W, Hp, Wp, L_h, L_w, kernel, stride, padding, dilation)
        return out.view(N, C, oh, ow), idx

    @staticmethod
    def backward(ctx, grad_output, _unused):
        (arg,) = ctx.saved_tensors
        N, C, H, W, Hp, Wp, L_h, L_w, kernel, stride, padding, dilation = ctx.geometry
        kh, kw = kernel
        oh, ow = arg.shape[1:]
        onehot = grad_output.new_zeros(N * C, kh * kw, L_h, L_w)
        onehot[:, :, :oh, :ow].scatter_(1, arg.unsqueeze(1),
                                        grad_output.reshape(N * C, 1, oh, ow))
        summed = F.fold(onehot.view(N * C, kh * kw, L_h * L_w), (Hp, Wp), kernel,
                        dilation=dilation, stride=stride)
        ph, pw = padding
        return summed[:, 0, ph:ph + H, pw:pw + W].reshape(N, C, H, W), None, None, None, None, None


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    kernel = _two(kernel_size)
    stride = kernel if stride is None else _two(stride)
    out, idx = MaxPoolUnfold.apply(input, kernel, stride, _two(padding), _two(dilation), ceil_mode)
    return (out, idx) if return_indices else out
