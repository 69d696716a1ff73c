"""Backward pass of a 2-D convolution, written by hand (no autograd).

Implement `conv2d_backward` (see README.md). F.conv2d, F.conv_transpose2d, F.unfold and F.fold
are allowed; torch.autograd, Tensor.backward, torch.nn.grad and torch.func are not.
"""

import torch
import torch.nn.functional as F  # noqa: F401 - allowed


def conv2d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1):
    """Gradients of out = F.conv2d(input, weight, bias, stride, padding, dilation, groups).

    Args:
        grad_output: (N, K, Ho, Wo) dLoss/dout.
        input:       (N, C, H, W) the forward's input.
        weight:      (K, C // groups, kh, kw) the forward's weight.
        stride, padding, dilation: int or (h, w) pair, as in the forward.
        groups:      as in the forward.

    Returns:
        (grad_input, grad_weight, grad_bias) with shapes (N, C, H, W), (K, C // groups, kh, kw)
        and (K,), in the inputs' dtype. The arguments must not be modified.
    """
    # TODO: grad_input (mind sizes the stride does not divide), grad_weight, grad_bias.
    raise NotImplementedError("conv2d_backward is not implemented yet")
