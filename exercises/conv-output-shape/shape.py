"""Output size of a 2-D convolution (see README.md)."""


def conv2d_output_shape(input_size, kernel_size, stride=1, padding=0, dilation=1) -> tuple[int, int]:
    """Spatial output shape (out_h, out_w) of torch.nn.functional.conv2d.

    input_size, kernel_size, stride, dilation: int or (h, w) pair.
    padding: int, (h, w) pair, "valid" or "same" (stride 1 only).
    Returns a tuple of two Python ints; raises ValueError where PyTorch would refuse.
    """
    # TODO: normalise every argument to an (h, w) pair, then apply the formula per axis.
    raise NotImplementedError("conv2d_output_shape is not implemented yet")
