"""WRONG: running_var initialised to zeros instead of ones.

Caught by: test_state_dict_keys_and_initial_values
"""

import torch
from torch import nn

DIMS = (0, 2, 3)


def _channel(t):
    return t.reshape(1, -1, 1, 1)


class BatchNorm2dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, batch_stats, eps):
        if batch_stats:
            var, mean = torch.var_mean(x, dim=DIMS, unbiased=False)
        else:
            mean, var = running_mean, running_var
        invstd = torch.rsqrt(var + eps)
        xhat = (x - _channel(mean)) * _channel(invstd)
        out = xhat if weight is None else xhat * _channel(weight) + _channel(bias)
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.batch_stats = batch_stats
        ctx.mark_non_differentiable(mean, var)
        return out, mean, var

    @staticmethod
    def backward(ctx, grad_out, _grad_mean, _grad_var):
        xhat, invstd, weight = ctx.saved_tensors
        g = grad_out if weight is None else grad_out * _channel(weight)
        if ctx.batch_stats:
            g = g - g.mean(DIMS, keepdim=True) - xhat * (g * xhat).mean(DIMS, keepdim=True)
        grad_x = g * _channel(invstd)
        grad_w = grad_b = None
        if weight is not None:
            grad_w = (grad_out * xhat).sum(DIMS)
            grad_b = grad_out.sum(DIMS)
        return grad_x, grad_w, grad_b, None, None, None, None


class BatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features, **kw))
            self.bias = nn.Parameter(torch.zeros(num_features, **kw))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **kw))
            self.register_buffer("running_var", torch.zeros(num_features, **kw))
            self.register_buffer("num_batches_tracked",
                                 torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x):
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")
        batch_stats = self.training or not self.track_running_stats
        m = x.numel() // x.shape[1]
        if batch_stats and m == 1:
            raise ValueError("expected more than 1 value per channel when using batch statistics")
        out, mean, var = BatchNorm2dFunction.apply(x, self.weight, self.bias, self.running_mean,
                                                   self.running_var, batch_stats, self.eps)
        if self.training and self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                if self.momentum is None:
                    f = 1.0 / float(self.num_batches_tracked)
                else:
                    f = self.momentum
                self.running_mean.mul_(1 - f).add_(mean, alpha=f)
                self.running_var.mul_(1 - f).add_(var, alpha=f * m / (m - 1))
        return out
