"""Missing: ceil_mode. Allowed to fail: test_ceil_mode, test_ceil_mode_last_window_rule, test_backward_padding_dilation_ceil, test_random_all_parameters

The reference without this one feature: it raises NotImplementedError.
"""

import torch
import torch.nn.functional as F


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _out_size(size, k, s, p, d, ceil_mode):
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1                        # the last window must start inside the input or left padding
    return out


class MaxPool2dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, kernel, stride, padding, dilation, ceil_mode):
        N, C, H, W = input.shape
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
        if ph > kh // 2 or pw > kw // 2:
            raise ValueError(f"padding {padding} must be at most half the kernel size {kernel}")
        oh = _out_size(H, kh, sh, ph, dh, ceil_mode)
        ow = _out_size(W, kw, sw, pw, dw, ceil_mode)
        if oh < 1 or ow < 1:
            raise ValueError(f"input {H}x{W} gives an empty output ({oh}x{ow})")
        eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1          # effective window extent
        bottom, right = (oh - 1) * sh + eh - H - ph, (ow - 1) * sw + ew - W - pw
        x = F.pad(input, (pw, right, ph, bottom), value=float("-inf"))
        win = x.unfold(2, eh, sh).unfold(3, ew, sw)[..., ::dh, ::dw]   # (N, C, oh, ow, kh, kw)
        output, arg = win.reshape(N, C, oh, ow, kh * kw).max(dim=-1)
        rows = torch.arange(oh).reshape(oh, 1) * sh - ph + arg // kw * dh
        cols = torch.arange(ow) * sw - pw + arg % kw * dw
        indices = rows * W + cols
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        ctx.input_shape = input.shape
        return output, indices

    @staticmethod
    def backward(ctx, grad_output, grad_indices):
        (indices,) = ctx.saved_tensors
        N, C, H, W = ctx.input_shape
        grad_input = grad_output.new_zeros(N * C, H * W)
        grad_input.scatter_add_(1, indices.reshape(N * C, -1), grad_output.reshape(N * C, -1))
        return grad_input.reshape(N, C, H, W), None, None, None, None, None


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    if ceil_mode:
        raise NotImplementedError("ceil_mode")
    kernel = _pair(kernel_size)
    stride = kernel if stride is None else _pair(stride)
    output, indices = MaxPool2dFunction.apply(input, kernel, stride, _pair(padding),
                                              _pair(dilation), ceil_mode)
    return (output, indices) if return_indices else output
