"""Wrong: adds the padding once instead of on both sides.

Caught by: test_padding, test_pairs, test_everything_non_square
"""


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d_output_shape(input_size, kernel_size, stride=1, padding=0, dilation=1):
    size, kernel, stride, dil = _pair(input_size), _pair(kernel_size), _pair(stride), _pair(dilation)
    if min(stride) < 1:
        raise ValueError("stride must be positive")
    if padding == "same":
        if stride != (1, 1):
            raise ValueError("same needs stride 1")
        return size
    pad = (0, 0) if padding == "valid" else _pair(padding)
    out = []
    for n, k, s, p, d in zip(size, kernel, stride, pad, dil):
        span = d * (k - 1) + 1
        if n + p < span:
            raise ValueError("kernel too large")
        out.append((n + p - span) // s + 1)
    return out[0], out[1]
