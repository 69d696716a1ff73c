"""Alternative: one small class per layer kind, float division with math.floor / math.ceil,
and the element size read from the dtype's name (bits / 8)."""

import math

KNOWN = ("float64", "float32", "float16", "bfloat16", "int8")


class Layer:
    macs_per_output = 0
    params = 0

    def __init__(self, spec, channels):
        self.k = self.s = self.d = (1, 1)
        self.p = (0, 0)
        self.ceil = False
        self.channels = channels

    def length(self, n, axis):
        k, s, p, d = self.k[axis], self.s[axis], self.p[axis], self.d[axis]
        exact = (n + 2 * p - d * (k - 1) - 1) / s
        out = (math.ceil(exact) if self.ceil else math.floor(exact)) + 1
        if self.ceil and (out - 1) * s >= n + p:
            out = out - 1
        if out <= 0:
            raise ValueError(f"{type(self).__name__}: kernel does not fit an input of {n}")
        return out


def _hw(v):
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


class Conv(Layer):
    def __init__(self, spec, channels):
        super().__init__(spec, channels)
        groups = spec.get("groups", 1)
        out = spec["out_channels"]
        if channels % groups or out % groups:
            raise ValueError(f"groups={groups} does not divide {channels} -> {out} channels")
        self.k, self.s = _hw(spec["kernel_size"]), _hw(spec.get("stride", 1))
        self.p, self.d = _hw(spec.get("padding", 0)), _hw(spec.get("dilation", 1))
        self.channels = out
        self.macs_per_output = channels // groups * self.k[0] * self.k[1]
        self.params = out * self.macs_per_output + (out if spec.get("bias", True) else 0)


class Pool(Layer):
    def __init__(self, spec, channels):
        super().__init__(spec, channels)
        self.k = _hw(spec["kernel_size"])
        self.s = self.k if spec.get("stride") is None else _hw(spec["stride"])
        self.p = _hw(spec.get("padding", 0))
        self.ceil = bool(spec.get("ceil_mode", False))
        if self.p[0] * 2 > self.k[0] or self.p[1] * 2 > self.k[1]:
            raise ValueError("pool padding must be at most half the kernel size")


KINDS = {"conv": Conv, "maxpool": Pool, "avgpool": Pool, "relu": Layer}


def plan(layers, input_shape, dtype="float32"):
    if dtype not in KNOWN:
        raise ValueError(f"unknown dtype {dtype}")
    nbytes = int(dtype.lstrip("bfloatin")) // 8
    n, c, h, w = input_shape
    rf, jump = [1, 1], [1, 1]
    report = []
    for spec in layers:
        if spec["type"] not in KINDS:
            raise ValueError(f"unknown layer type {spec['type']}")
        layer = KINDS[spec["type"]](spec, c)
        h, w = layer.length(h, 0), layer.length(w, 1)
        for a in (0, 1):
            rf[a] += layer.d[a] * (layer.k[a] - 1) * jump[a]
            jump[a] *= layer.s[a]
        c = layer.channels
        report.append({
            "shape": (n, c, h, w), "receptive_field": (rf[0], rf[1]), "jump": (jump[0], jump[1]),
            "params": layer.params, "macs": n * c * h * w * layer.macs_per_output,
            "activation_bytes": n * c * h * w * nbytes,
        })
    return report
