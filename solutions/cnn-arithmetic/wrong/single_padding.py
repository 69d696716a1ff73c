"""Wrong: adds the padding on one side only.

Caught by: test_shape_conv (the pool shape check too, but only when a drawn pool has padding)
"""

import math

BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _axis(n, r, j, k, s, p, d, ceil):
    """One axis through one layer: (output length, receptive field, jump)."""
    span = d * (k - 1) + 1
    out = (n + p - span + (s - 1) * ceil) // s + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1                        # the last window may not start in the right padding
    if out < 1:
        raise ValueError(f"a window of {span} pixels does not fit in {n} pixels + 2 x {p} padding")
    return out, r + (span - 1) * j, j * s


def plan(layers, input_shape, dtype="float32"):
    if dtype not in BYTES:
        raise ValueError(f"unknown dtype {dtype!r}; expected one of {sorted(BYTES)}")
    n, c, h, w = input_shape
    axes, result = [(x, 1, 1) for x in (h, w)], []    # per axis: (length, receptive field, jump)
    for layer in layers:
        kind, get = layer["type"], layer.get
        cout, params, per_output, geometry = c, 0, 0, None      # relu: nothing changes
        if kind == "conv":
            k, cout, groups = _pair(layer["kernel_size"]), layer["out_channels"], get("groups", 1)
            if c % groups or cout % groups:
                raise ValueError(f"groups={groups} must divide in_channels={c} and out_channels={cout}")
            per_output = c // groups * math.prod(k)
            params = cout * per_output + cout * get("bias", True)
            geometry = (k, _pair(get("stride", 1)), _pair(get("padding", 0)), _pair(get("dilation", 1)))
        elif kind in ("maxpool", "avgpool"):
            k, p = _pair(layer["kernel_size"]), _pair(get("padding", 0))
            if any(2 * q > m for q, m in zip(p, k)):
                raise ValueError(f"pool padding {p} must be at most half the kernel {k}")
            geometry = (k, _pair(get("stride") or k), p, _pair(1))
        elif kind != "relu":
            raise ValueError(f"unknown layer type {kind!r}")
        if geometry:
            ceil = get("ceil_mode", False)
            axes = [_axis(*axis, *g, ceil) for axis, g in zip(axes, zip(*geometry))]
        (h, rh, jh), (w, rw, jw) = axes
        c, size = cout, n * cout * h * w
        result.append({"shape": (n, c, h, w), "receptive_field": (rh, rw), "jump": (jh, jw),
                       "params": params, "macs": size * per_output, "activation_bytes": size * BYTES[dtype]})
    return result
