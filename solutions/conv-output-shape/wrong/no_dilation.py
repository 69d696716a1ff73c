"""Wrong: ignores dilation (the dilated kernel spans d*(k-1)+1 pixels, not k).

Caught by: test_dilation, test_everything_non_square, test_errors[dilated-too-large]
"""


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d_output_shape(input_size, kernel_size, stride=1, padding=0, dilation=1):
    size, kernel, stride = _pair(input_size), _pair(kernel_size), _pair(stride)
    if min(stride) < 1:
        raise ValueError("stride must be positive")
    if padding == "same":
        if stride != (1, 1):
            raise ValueError("same needs stride 1")
        return size
    pad = (0, 0) if padding == "valid" else _pair(padding)
    out = []
    for n, k, s, p in zip(size, kernel, stride, pad):
        if n + 2 * p < k:
            raise ValueError("kernel too large")
        out.append((n + 2 * p - k) // s + 1)
    return out[0], out[1]
