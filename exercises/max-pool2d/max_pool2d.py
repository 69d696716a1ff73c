"""2-D max pooling by hand: forward and a hand-written backward (see README.md).

Implement `max_pool2d` through your own torch.autograd.Function. F.max_pool2d,
torch.max_pool2d, nn.MaxPool2d, F.max_pool2d_with_indices, the adaptive/fractional poolings
and F.max_unpool2d are forbidden; everything else in torch (F.pad, Tensor.unfold, F.unfold,
torch.max, scatter_add, ...) is allowed.
"""

import torch
import torch.nn.functional as F  # noqa: F401 - allowed


class MaxPool2dFunction(torch.autograd.Function):
    """max pooling with a hand-written backward; call it as MaxPool2dFunction.apply(input, ...)."""

    @staticmethod
    def forward(ctx, input, kernel_size, stride, padding, dilation, ceil_mode):
        """Return (output, indices); mark indices non-differentiable, save what backward needs."""
        # TODO: -inf padding, windows, first maximum in row-major order, flat h*W+w indices.
        raise NotImplementedError("MaxPool2dFunction.forward is not implemented yet")

    @staticmethod
    def backward(ctx, grad_output, grad_indices):
        """Return one gradient per forward argument: grad_input, then None for the rest."""
        # TODO: route each grad_output element to its argmax, accumulating over windows.
        raise NotImplementedError("MaxPool2dFunction.backward is not implemented yet")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Like F.max_pool2d for a 4-D input (N, C, H, W).

    Args:
        kernel_size, stride, padding, dilation: int or (h, w) pair; stride None = kernel_size.
        ceil_mode: round the output size up (a last, partial window).
        return_indices: also return int64 flat indices h * W + w into the unpadded input.

    Returns:
        output (N, C, Ho, Wo) in the input's dtype, or (output, indices) when return_indices.

    Raises:
        ValueError: padding > kernel_size // 2 (per dimension), or an empty output.
    """
    # TODO: normalise the arguments and call MaxPool2dFunction.apply(input, ...).
    raise NotImplementedError("max_pool2d is not implemented yet")
