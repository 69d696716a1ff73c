"""Alternative: per axis with math.floor of a true division (math.floor returns an int), and
"same"/"valid" resolved to explicit paddings first (the total d*(k-1) split in two: the output
size does not depend on where the odd pixel goes)."""

import math


def _axis_pairs(value):
    if isinstance(value, int) and not isinstance(value, bool):
        return [value, value]
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return [int(v) for v in value]
    raise ValueError(f"expected an int or an (h, w) pair, got {value!r}")


def conv2d_output_shape(input_size, kernel_size, stride=1, padding=0, dilation=1):
    n, k, s, d = map(_axis_pairs, (input_size, kernel_size, stride, dilation))
    if min(n + k + s + d) < 1:
        raise ValueError("input_size, kernel_size, stride and dilation must be positive")
    if padding == "same":
        if s != [1, 1]:
            raise ValueError("padding='same' needs stride 1")
        totals = [di * (ki - 1) for di, ki in zip(d, k)]
    elif padding == "valid":
        totals = [0, 0]
    else:
        totals = [2 * p for p in _axis_pairs(padding)]
        if min(totals) < 0:
            raise ValueError(f"negative padding {padding!r}")
    out = []
    for ni, ki, si, ti, di in zip(n, k, s, totals, d):
        room = ni + ti - (di * (ki - 1) + 1)
        if room < 0:
            raise ValueError(f"the dilated kernel ({di * (ki - 1) + 1} pixels) does not fit "
                             f"in the padded input ({ni + ti} pixels)")
        out.append(math.floor(room / si) + 1)
    return tuple(out)
