"""Alternative: count the window positions one by one and track, per axis, which input pixels
output pixel i depends on (first pixel a + b * i, span L), composing layer by layer."""

SIZES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}


def _two(v):
    if isinstance(v, (tuple, list)):
        return tuple(v)
    return (v, v)


def _count(n, span, s, p, ceil):
    """How many windows: starts at 0, s, 2s, ... in padded coordinates."""
    count = 0
    while True:
        start = count * s
        if ceil:
            ok = start < n + 2 * p - span + s and start - p < n
        else:
            ok = start + span <= n + 2 * p
        if not ok:
            break
        count += 1
    if count == 0:
        raise ValueError(f"window of {span} does not fit in {n} (+{p} padding each side)")
    return count


def plan(layers, input_shape, dtype="float32"):
    if dtype not in SIZES:
        raise ValueError(f"dtype {dtype!r} is not supported")
    n, c = input_shape[0], input_shape[1]
    sizes = [input_shape[2], input_shape[3]]
    first, step, span_in = [0, 0], [1, 1], [1, 1]    # input window of pixel i: first + step*i
    out = []
    for layer in layers:
        t = layer["type"]
        if t not in ("conv", "maxpool", "avgpool", "relu"):
            raise ValueError(f"unknown layer type {t!r}")
        if t == "relu":
            out_c, ks, ss, ps, ds, ceil, params, per_out = c, (1, 1), (1, 1), (0, 0), (1, 1), False, 0, 0
        else:
            ks, ps = _two(layer["kernel_size"]), _two(layer.get("padding", 0))
            ceil = bool(layer.get("ceil_mode", False))
            if t == "conv":
                g, out_c = layer.get("groups", 1), layer["out_channels"]
                if c % g != 0 or out_c % g != 0:
                    raise ValueError("groups must divide the input and output channels")
                ss, ds = _two(layer.get("stride", 1)), _two(layer.get("dilation", 1))
                per_out = c // g * ks[0] * ks[1]
                params = out_c * per_out + (out_c if layer.get("bias", True) else 0)
            else:
                out_c, ds, params, per_out = c, (1, 1), 0, 0
                stride = layer.get("stride", None)
                ss = ks if stride is None else _two(stride)
                if any(p > k // 2 for p, k in zip(ps, ks)):
                    raise ValueError("pool padding must be at most half the kernel")
        for a in range(2):
            span = ds[a] * (ks[a] - 1) + 1
            sizes[a] = _count(sizes[a], span, ss[a], ps[a], ceil)
            # layer pixel i reads previous pixels i*s - p ... i*s - p + span - 1
            span_in[a] = step[a] * (span - 1) + span_in[a]
            first[a] = first[a] - step[a] * ps[a]
            step[a] = step[a] * ss[a]
        c = out_c
        elements = n * c * sizes[0] * sizes[1]
        out.append(dict(shape=(n, c, sizes[0], sizes[1]), receptive_field=tuple(span_in),
                        jump=tuple(step), params=params, macs=elements * per_out,
                        activation_bytes=elements * SIZES[dtype]))
    return out
