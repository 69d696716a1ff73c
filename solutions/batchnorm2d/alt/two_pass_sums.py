"""BatchNorm2d with explicit sums (reference-free two-pass statistics) and one Function.

Sum and sum of squares of the centred input per channel; the Function handles both modes
(`mode` says which statistics) and returns the batch statistics it used as extra,
non-differentiable outputs. Backward is written with sums instead of means:
    dxhat = go * weight
    grad_x = invstd / M * (M * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))
"""

import math

import torch
from torch import nn


class BNFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, gamma, beta, r_mean, r_var, mode, eps):
        N, C, H, W = x.shape
        M = N * H * W
        if mode == "batch":
            mean = x.sum(dim=(0, 2, 3)) / M
            d = x - mean.view(1, C, 1, 1)
            var = (d * d).sum(dim=(0, 2, 3)) / M
        else:
            mean, var = r_mean.clone(), r_var.clone()
            d = x - mean.view(1, C, 1, 1)
        invstd = (var + eps) ** -0.5
        xhat = d * invstd.view(1, C, 1, 1)
        y = xhat * gamma.view(1, C, 1, 1) + beta.view(1, C, 1, 1) if gamma is not None else xhat
        ctx.save_for_backward(xhat, invstd, gamma)
        ctx.mode = mode
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    @staticmethod
    def backward(ctx, gy, _gm, _gv):
        xhat, invstd, gamma = ctx.saved_tensors
        N, C, H, W = xhat.shape
        M = N * H * W
        dxhat = gy * gamma.view(1, C, 1, 1) if gamma is not None else gy
        if ctx.mode == "batch":
            s1 = dxhat.sum(dim=(0, 2, 3)).view(1, C, 1, 1)
            s2 = (dxhat * xhat).sum(dim=(0, 2, 3)).view(1, C, 1, 1)
            gx = invstd.view(1, C, 1, 1) / M * (M * dxhat - s1 - xhat * s2)
        else:
            gx = dxhat * invstd.view(1, C, 1, 1)
        if gamma is None:
            return gx, None, None, None, None, None, None
        return (gx, (gy * xhat).sum(dim=(0, 2, 3)), gy.sum(dim=(0, 2, 3)),
                None, None, None, None)


class BatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if self.affine:
            self.weight = nn.Parameter(torch.empty(num_features, device=device, dtype=dtype).fill_(1))
            self.bias = nn.Parameter(torch.empty(num_features, device=device, dtype=dtype).fill_(0))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", torch.ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", torch.tensor(0, device=device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def forward(self, input):
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")
        n = math.prod(input.shape) // input.shape[1]
        if self.training and self.track_running_stats:
            if n <= 1:
                raise ValueError("Expected more than 1 value per channel when training")
            out, mean, var = BNFn.apply(input, self.weight, self.bias, None, None, "batch",
                                        self.eps)
            with torch.no_grad():
                self.num_batches_tracked += 1
                factor = self.momentum
                if factor is None:
                    factor = 1.0 / int(self.num_batches_tracked)
                self.running_mean.copy_(self.running_mean * (1 - factor) + mean * factor)
                self.running_var.copy_(self.running_var * (1 - factor)
                                       + var * (n / (n - 1)) * factor)
            return out
        if not self.track_running_stats:
            if n <= 1:
                raise ValueError("Expected more than 1 value per channel")
            return BNFn.apply(input, self.weight, self.bias, None, None, "batch", self.eps)[0]
        return BNFn.apply(input, self.weight, self.bias, self.running_mean, self.running_var,
                          "running", self.eps)[0]
