"""BatchNorm2d on a (C, M) matrix view: statistics along rows, two Functions (train / eval).

x is permuted to channels-first and flattened to (C, M) with M = N*H*W, so every per-channel
quantity is a row reduction. The training backward uses the form
    grad_x = weight * invstd / M * (M * go - sum(go) - xhat * sum(go * xhat)).
Running statistics are updated with lerp_ (running += f * (batch - running)).
"""

import torch
import torch.nn as nn


def _rows(t):
    """(N, C, H, W) -> (C, N*H*W), a copy when needed."""
    return t.transpose(0, 1).reshape(t.shape[1], -1)


def _unrows(m, shape):
    n, c, hh, ww = shape
    return m.reshape(c, n, hh, ww).transpose(0, 1)


class _TrainNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, eps):
        xm = _rows(x)
        M = xm.shape[1]
        mu = xm.sum(1) / M
        centred = xm - mu[:, None]
        var = (centred * centred).sum(1) / M
        inv = 1.0 / torch.sqrt(var + eps)
        xhat = centred * inv[:, None]
        y = xhat if w is None else xhat * w[:, None] + b[:, None]
        ctx.save_for_backward(xhat, inv, w)
        ctx.shape = x.shape
        mu_out, var_out = mu.detach().clone(), var.detach().clone()
        ctx.mark_non_differentiable(mu_out, var_out)
        return _unrows(y, x.shape).contiguous(), mu_out, var_out

    @staticmethod
    def backward(ctx, go, _a, _b):
        xhat, inv, w = ctx.saved_tensors
        g = _rows(go)
        M = g.shape[1]
        s1, s2 = g.sum(1), (g * xhat).sum(1)
        scale = inv if w is None else inv * w
        gx = scale[:, None] / M * (M * g - s1[:, None] - xhat * s2[:, None])
        gw = gb = None
        if w is not None:
            gw, gb = s2, s1
        return _unrows(gx, ctx.shape), gw, gb, None


class _EvalNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, mean, var, eps):
        inv = 1.0 / torch.sqrt(var + eps)
        xhat = (_rows(x) - mean[:, None]) * inv[:, None]
        y = xhat if w is None else xhat * w[:, None] + b[:, None]
        ctx.save_for_backward(xhat, inv, w)
        ctx.shape = x.shape
        return _unrows(y, x.shape).contiguous()

    @staticmethod
    def backward(ctx, go):
        xhat, inv, w = ctx.saved_tensors
        g = _rows(go)
        scale = inv if w is None else inv * w
        gw = gb = None
        if w is not None:
            gw, gb = (g * xhat).sum(1), g.sum(1)
        return _unrows(g * scale[:, None], ctx.shape), gw, gb, None, None, None


class BatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        factory = dict(device=device, dtype=dtype)
        self.weight = nn.Parameter(torch.ones(num_features, **factory)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features, **factory)) if affine else None
        for name, init in (("running_mean", torch.zeros), ("running_var", torch.ones)):
            self.register_buffer(name, init(num_features, **factory) if track_running_stats
                                 else None)
        self.register_buffer("num_batches_tracked",
                             torch.zeros((), dtype=torch.int64, device=device)
                             if track_running_stats else None)

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError(f"BatchNorm2d expects a 4-D input, got {x.ndim}-D")
        use_batch = self.training or self.running_mean is None
        if not use_batch:
            return _EvalNorm.apply(x, self.weight, self.bias, self.running_mean,
                                   self.running_var, self.eps)
        M = x.shape[0] * x.shape[2] * x.shape[3]
        if M < 2:
            raise ValueError("batch statistics need more than one value per channel")
        y, mu, var = _TrainNorm.apply(x, self.weight, self.bias, self.eps)
        if self.training and self.running_mean is not None:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                f = (1.0 / self.num_batches_tracked.item() if self.momentum is None
                     else self.momentum)
                self.running_mean.lerp_(mu.to(self.running_mean.dtype), f)
                self.running_var.lerp_((var * (M / (M - 1))).to(self.running_var.dtype), f)
        return y
