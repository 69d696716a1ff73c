"""Max pooling by a loop over the kernel taps: a running maximum with a strict comparison.

Taps are visited in row-major order and a later tap replaces the running maximum only when it
is strictly greater, so ties keep the first one. Each tap is one strided slice of the -inf
padded input. Backward: index_put_ with accumulate=True.
"""

import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _size(n, k, s, p, d, ceil):
    eff = d * (k - 1) + 1
    if ceil:
        out = -(-(n + 2 * p - eff) // s) + 1
        if (out - 1) * s >= n + p:
            out -= 1
    else:
        out = (n + 2 * p - eff) // s + 1
    return out


class _Pool(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k, s, p, d, ceil):
        n, c, hh, ww = x.shape
        if p[0] * 2 > k[0] or p[1] * 2 > k[1]:
            raise ValueError("padding must be at most half of the kernel size")
        oh, ow = _size(hh, k[0], s[0], p[0], d[0], ceil), _size(ww, k[1], s[1], p[1], d[1], ceil)
        if min(oh, ow) <= 0:
            raise ValueError("output size is too small")
        need_h = (oh - 1) * s[0] + d[0] * (k[0] - 1) + 1
        need_w = (ow - 1) * s[1] + d[1] * (k[1] - 1) + 1
        xp = torch.full((n, c, max(need_h, hh + p[0]), max(need_w, ww + p[1])), float("-inf"),
                        dtype=x.dtype)
        xp[:, :, p[0]:p[0] + hh, p[1]:p[1] + ww] = x
        best = torch.full((n, c, oh, ow), float("-inf"), dtype=x.dtype)
        where = torch.zeros((n, c, oh, ow), dtype=torch.int64)
        ys = torch.arange(oh).view(-1, 1) * s[0] - p[0]
        xs = torch.arange(ow).view(1, -1) * s[1] - p[1]
        for i in range(k[0]):
            for j in range(k[1]):
                r0, c0 = i * d[0], j * d[1]
                tap = xp[:, :, r0:r0 + (oh - 1) * s[0] + 1:s[0], c0:c0 + (ow - 1) * s[1] + 1:s[1]]
                better = tap > best
                best = torch.where(better, tap, best)
                flat = (ys + r0) * ww + (xs + c0)
                where = torch.where(better, flat.expand_as(where), where)
        ctx.mark_non_differentiable(where)
        ctx.save_for_backward(where)
        ctx.shape = x.shape
        return best, where

    @staticmethod
    def backward(ctx, grad, _):
        (where,) = ctx.saved_tensors
        n, c, hh, ww = ctx.shape
        out = torch.zeros(n, c, hh * ww, dtype=grad.dtype)
        nn_ = torch.arange(n).view(n, 1, 1).expand(n, c, where[0, 0].numel())
        cc = torch.arange(c).view(1, c, 1).expand(n, c, where[0, 0].numel())
        out.index_put_((nn_, cc, where.reshape(n, c, -1)), grad.reshape(n, c, -1),
                       accumulate=True)
        return out.view(n, c, hh, ww), None, None, None, None, None


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    k = _pair(kernel_size)
    s = k if stride is None else _pair(stride)
    out, idx = _Pool.apply(input, k, s, _pair(padding), _pair(dilation), bool(ceil_mode))
    if return_indices:
        return out, idx
    return out
