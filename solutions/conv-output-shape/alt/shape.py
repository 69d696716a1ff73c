"""Alternative: count the valid window positions instead of using the closed formula."""


def _two(v, name):
    h, w = (v, v) if isinstance(v, int) else v
    if not all(isinstance(x, int) for x in (h, w)):
        raise ValueError(f"{name}: expected ints, got {v!r}")
    return h, w


def _positions(n, k, s, p, d):
    span = d * (k - 1) + 1
    last_start = n + 2 * p - span        # the window may start at 0, s, 2s, ... <= last_start
    if last_start < 0:
        raise ValueError(f"window of {span} pixels does not fit in {n + 2 * p}")
    return len(range(0, last_start + 1, s))


def conv2d_output_shape(input_size, kernel_size, stride=1, padding=0, dilation=1):
    n, k, s, d = (_two(v, name) for v, name in ((input_size, "input_size"),
                  (kernel_size, "kernel_size"), (stride, "stride"), (dilation, "dilation")))
    if min(*n, *k, *s, *d) <= 0:
        raise ValueError("sizes, stride and dilation must be positive")
    if isinstance(padding, str):
        if padding == "same":
            if s != (1, 1):
                raise ValueError("'same' padding requires stride 1")
            return tuple(n)
        if padding != "valid":
            raise ValueError(f"unknown padding {padding!r}")
        padding = 0
    p = _two(padding, "padding")
    if min(p) < 0:
        raise ValueError(f"padding cannot be negative, got {padding!r}")
    return tuple(_positions(*axis) for axis in zip(n, k, s, p, d))
