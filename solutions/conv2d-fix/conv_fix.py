"""The conv2d wrapper, fixed (reference).

What was wrong with
    conv = nn.Conv2d(input.size(1), weight.size(0), weight.size(2), weight.size(3),
                     stride=weight.stride, padding=weight.padding, ...)
    return conv(input, weight, bias)

1. A module's forward takes only the input: `conv(input, weight, bias)` is a TypeError. Its
   weight and bias are its *own* parameters, freshly (randomly) initialised in __init__; the
   tensors we were given would never be used.
2. A tensor has no `.padding`, `.dilation` or `.groups`, and `weight.stride` is a method
   (memory strides), not the convolution stride: these belong in the wrapper's signature.
3. nn.Conv2d's positional arguments are (in_channels, out_channels, kernel_size, stride, ...):
   `weight.size(3)` lands on `stride`; the kernel size is `weight.shape[2:]`.
4. Building a module on every call allocates and initialises a weight just to throw it away.

The functional form uses the caller's tensors as they are, so autograd records the operation
on them: `out.backward()` fills the caller's `weight.grad` and `bias.grad`. Copying them into a
module (`conv.weight.data = weight`, `nn.Parameter(weight)`) would make new leaves and cut the
caller's tensors out of the graph.
"""

import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """input (N, C, H, W), weight (K, C // groups, kh, kw), bias (K,) or None -> (N, K, Ho, Wo)."""
    return F.conv2d(input, weight, bias, stride=stride, padding=padding, dilation=dilation,
                    groups=groups)
