"""BatchNorm2d by hand: the module with its running statistics, and a hand-written backward.

Implement `BatchNorm2d` (see README.md): an nn.Module with nn.BatchNorm2d's constructor
arguments and state_dict keys, whose forward calls your own torch.autograd.Function.
F.batch_norm, torch.batch_norm, nn.BatchNorm*, torch.native_batch_norm and the other
normalisation built-ins (instance/layer/group/rms norm) are forbidden.
"""

import torch
from torch import nn


class BatchNorm2dFunction(torch.autograd.Function):
    """Normalise x per channel; call it as BatchNorm2dFunction.apply(x, weight, bias, ...)."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, use_batch_stats, eps):
        """Return the output (and whatever else you need, marked non-differentiable)."""
        # TODO: batch or running statistics, xhat, affine; save what backward needs.
        raise NotImplementedError("BatchNorm2dFunction.forward is not implemented yet")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Return one gradient per forward argument (None for the non-tensors and buffers)."""
        # TODO: the closed-form gradients for x, weight and bias.
        raise NotImplementedError("BatchNorm2dFunction.backward is not implemented yet")


class BatchNorm2d(nn.Module):
    """Like nn.BatchNorm2d(num_features, eps, momentum, affine, track_running_stats, device, dtype).

    Parameters weight (ones) and bias (zeros) when affine, else None; buffers running_mean
    (zeros), running_var (ones) and num_batches_tracked (int64 scalar 0) when
    track_running_stats, else None. The state_dict keys are nn.BatchNorm2d's.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        super().__init__()
        # TODO: parameters and buffers (register_parameter / register_buffer, None when absent).
        raise NotImplementedError("BatchNorm2d.__init__ is not implemented yet")

    def forward(self, x):
        """x: (N, C, H, W). Returns a tensor of the same shape and dtype.

        Raises:
            ValueError: x is not 4-D, or batch statistics are needed with N*H*W == 1.
        """
        # TODO: choose batch or running statistics, update the running statistics in training.
        raise NotImplementedError("BatchNorm2d.forward is not implemented yet")
