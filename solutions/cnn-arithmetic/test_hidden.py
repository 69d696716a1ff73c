"""Hidden checks for cnn-arithmetic: plan(layers, input_shape, dtype) against real PyTorch modules.

Oracles, never hard-coded values: every layer description is built as nn.Conv2d / nn.MaxPool2d /
nn.AvgPool2d / nn.ReLU and run on a meta tensor (output shapes); parameters are
sum(p.numel()) of those modules; multiply-accumulates are FlopCounterMode's total / 2 (it
counts 2 FLOPs per conv MAC, none for pools or ReLU); activation bytes are the output's numel
times torch's element_size for the dtype. The receptive field and jump come from the standard
recurrence (r += (d*(k-1)) * j, then j *= s), and test_receptive_field_empirical /
test_jump_empirical measure them: with all-ones weights (max pools replaced by average pools of
the same geometry, so every tap gets a gradient) and no padding, the input gradient of output
pixel (0, 0) is non-zero exactly on a window of the receptive field's size, and pixel (0, 1)'s
window starts `jump` columns further right.

Independent credit: each check judges one quantity (a value check reads only its own key of
each layer's dict, accepting a list for a tuple and an int-valued float for an int; only
test_return_type judges types), and varies only the property it names: square ints, groups 1,
dilation 1, no ceil_mode elsewhere. test_mixed_stack draws everything at once. Every check runs
fixed cases first (so a known-wrong variant is caught whatever the seed), then Hypothesis
examples. contract.toml maps every README clause to its check and wrong/ variant.
"""

import copy

import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from grader import harness as h

MODULE = "cnn_plan"
HYPOTHESIS = dict(deadline=None, database=None, print_blob=False, report_multiple_bugs=False,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.generate])
KEYS = ("shape", "receptive_field", "jump", "params", "macs", "activation_bytes")
DTYPES = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16,
          "bfloat16": torch.bfloat16, "int8": torch.int8}


# ------------------------------------------------------------------------------------ oracles

def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _module(layer, c_in, device="meta", ones=False):
    """The PyTorch module a layer description stands for (ones: all-ones weights, zero bias,
    max pools as average pools of the same geometry, for the gradient measurements)."""
    kind = layer["type"]
    if kind == "conv":
        m = nn.Conv2d(c_in, layer["out_channels"], layer["kernel_size"],
                      stride=layer.get("stride", 1), padding=layer.get("padding", 0),
                      dilation=layer.get("dilation", 1), groups=layer.get("groups", 1),
                      bias=layer.get("bias", True), device=device, dtype=torch.float64)
        if ones:
            with torch.no_grad():
                m.weight.fill_(1.0)
                if m.bias is not None:
                    m.bias.zero_()
        return m
    if kind == "relu":
        return nn.ReLU()
    pool = nn.AvgPool2d if kind == "avgpool" or ones else nn.MaxPool2d
    return pool(layer["kernel_size"], stride=layer.get("stride"), padding=layer.get("padding", 0),
                ceil_mode=layer.get("ceil_mode", False))


def torch_plan(layers, input_shape, flops=True):
    """Per layer: output shape, parameter count and MACs, from the real modules."""
    x = torch.empty(*input_shape, device="meta", dtype=torch.float64)
    out = []
    for layer in layers:
        m = _module(layer, x.shape[1])
        if flops:
            with FlopCounterMode(display=False) as counter:
                x = m(x)
        else:
            x = m(x)
        out.append({"shape": tuple(x.shape), "params": sum(p.numel() for p in m.parameters()),
                    "macs": counter.get_total_flops() // 2 if flops else None})
    return out


def recurrence(layers):
    """The standard receptive-field recurrence, per axis: r_out = r_in + (k_eff - 1) * j_in,
    j_out = j_in * s, k_eff = d * (k - 1) + 1 (a ReLU is a 1x1 window, stride 1)."""
    r, j, out = [1, 1], [1, 1], []
    for layer in layers:
        if layer["type"] != "relu":
            k, d = _pair(layer["kernel_size"]), _pair(layer.get("dilation", 1))
            s = layer.get("stride")
            if s is None:                   # conv: 1; pools: the kernel size
                s = 1 if layer["type"] == "conv" else k
            s = _pair(s)
            for a in range(2):
                r[a] += d[a] * (k[a] - 1) * j[a]
                j[a] *= s[a]
        out.append({"receptive_field": tuple(r), "jump": tuple(j)})
    return out


def _no_padding(layers):
    return [dict(layer, padding=0) if "padding" in layer else dict(layer) for layer in layers]


_MEASURED = {}


def _windows(layers, input_shape):
    """Per layer, measured on channel 0: (rows, cols) spanned by the input pixels on which
    output pixel (0, 0) depends (where its input gradient is non-zero), and the first row of
    pixel (1, 0)'s window and the first column of pixel (0, 1)'s. One backward pass: each
    (layer, pixel) pair gets an image of its own in a batch of 3 * len(layers)."""
    key = repr((layers, input_shape))
    if key in _MEASURED:
        return _MEASURED[key]
    pixels = ((0, 0), (1, 0), (0, 1))
    x = torch.ones(3 * len(layers), *input_shape[1:], dtype=torch.float64, requires_grad=True)
    y, c, total = x, input_shape[1], 0
    for i, layer in enumerate(layers):
        y = _module(layer, c, device="cpu", ones=True)(y)
        c = y.shape[1]
        total = total + sum(y[3 * i + p, 0, row, col] for p, (row, col) in enumerate(pixels))
    total.backward()
    support = x.grad.abs().sum(dim=1) > 0                       # (image, H, W)
    rows = support.any(dim=2)
    cols = support.any(dim=1)
    out = []
    for i in range(len(layers)):
        r0, c0 = rows[3 * i].nonzero().flatten(), cols[3 * i].nonzero().flatten()
        out.append({"receptive_field": (int(r0[-1] - r0[0] + 1), int(c0[-1] - c0[0] + 1)),
                    "jump": (int(rows[3 * i + 1].nonzero()[0]), int(cols[3 * i + 2].nonzero()[0]))})
    _MEASURED[key] = out
    return out


def _measurable(layers, input_shape):
    """The same stack without padding, on an input large enough for a 2x2 output."""
    layers = _no_padding(layers)
    last = recurrence(layers)[-1]
    r, j = last["receptive_field"], last["jump"]
    return layers, (input_shape[0], input_shape[1], r[0] + j[0] + 1, r[1] + j[1] + 1)


# ------------------------------------------------------------------------------------ candidate

def answer(layers, input_shape, **kwargs):
    """Call the candidate on copies (the oracle keeps the originals)."""
    fn = h.candidate(MODULE).plan
    got = h.call(fn, copy.deepcopy(layers), tuple(input_shape), **kwargs)
    return got, h.last_call()


def _value(v):
    """An int, or a tuple of ints, from what came back (None when it is neither)."""
    if type(v) is int:
        return v
    if type(v) is float and v == v and abs(v) != float("inf") and v == int(v):
        return int(v)
    if type(v) in (tuple, list):
        items = tuple(_value(x) for x in v)
        return None if any(x is None or type(x) is tuple for x in items) else items
    return None


def _layer_name(layer):
    return "{" + ", ".join(f"{k}: {v!r}" for k, v in layer.items()) + "}"


def _problem(got, call, layers, key, wants):
    """What is wrong with layer i's `key` against wants[i] (None: nothing). Compared as
    numbers; the types are test_return_type's business."""
    if type(got) not in (list, tuple) or len(got) != len(layers):
        return (f"{call} returned {h.describe(got)}; expected a list of {len(layers)} dicts, one "
                "per layer")
    for i, (entry, layer, want) in enumerate(zip(got, layers, wants)):
        if not isinstance(entry, dict) or key not in entry:
            return f"{call}: item {i} is {h.describe(entry)}; expected a dict with the key {key!r}"
        if _value(entry[key]) != want:
            return (f"{call}: layer {i} {_layer_name(layer)} has {key} = "
                    f"{h.describe(entry[key])}; expected {want}")
    return None


def expect(got, call, layers, key, wants):
    problem = _problem(got, call, layers, key, wants)
    h.check(problem is None, problem)


def check_key(layers, input_shape, key, **kwargs):
    got, call = answer(layers, input_shape, **kwargs)
    if key in ("receptive_field", "jump"):
        wants = [r[key] for r in recurrence(layers)]
    elif key == "activation_bytes":
        size = torch.empty(0, dtype=DTYPES[kwargs.get("dtype", "float32")]).element_size()
        wants = [torch.Size(r["shape"]).numel() * size
                 for r in torch_plan(layers, input_shape, flops=False)]
    else:
        wants = [r[key] for r in torch_plan(layers, input_shape, flops=key == "macs")]
    expect(got, call, layers, key, wants)


# ------------------------------------------------------------------------------------ strategies

def conv(out_channels, kernel_size, **kw):
    return {"type": "conv", "out_channels": out_channels, "kernel_size": kernel_size, **kw}


def pool(kind, kernel_size, **kw):
    return {"type": kind, "kernel_size": kernel_size, **kw}


RELU = {"type": "relu"}


def _fits(layers, input_shape):
    try:
        torch_plan(layers, input_shape, flops=False)
        return True
    except (RuntimeError, ValueError):
        return False


@st.composite
def stacks(draw, kinds=("conv", "relu", "maxpool", "avgpool"), strided=True, padded=True,
           dilation=False, groups=False, ceil=False, pairs=False, max_layers=3):
    """(layers, input_shape): a valid stack drawn with only the named properties varied."""
    def v(lo, hi):
        a = draw(st.integers(lo, hi))
        return (a, draw(st.integers(lo, hi))) if pairs and draw(st.booleans()) else a

    n, c = draw(st.integers(1, 3)), draw(st.sampled_from([2, 4]) if groups else st.integers(1, 4))
    hgt = draw(st.integers(10, 28))
    shape = (n, c, hgt, draw(st.integers(10, 28)) if pairs else hgt)
    layers = []
    for _ in range(draw(st.integers(1, max_layers))):
        kind = draw(st.sampled_from(kinds))
        if kind == "conv":
            g = draw(st.sampled_from([1, 2])) if groups else 1
            layer = conv(g * draw(st.integers(1, 3)), v(1, 5), bias=draw(st.booleans()))
            if strided:
                layer["stride"] = v(1, 3)
            if padded:
                layer["padding"] = v(0, 2)
            if dilation:
                layer["dilation"] = v(1, 3)
            if groups:
                layer["groups"] = g
        elif kind == "relu":
            layer = dict(RELU)
        else:
            k = v(1, 4)
            layer = pool(kind, k, stride=v(1, 3) if strided and draw(st.booleans()) else None)
            if padded:
                kk = _pair(k)
                p = draw(st.integers(0, min(kk) // 2))
                if type(k) is tuple and draw(st.booleans()):
                    p = (draw(st.integers(0, kk[0] // 2)), draw(st.integers(0, kk[1] // 2)))
                layer["padding"] = p
            if ceil:
                layer["ceil_mode"] = draw(st.booleans())
        if _fits(layers + [layer], shape):
            layers.append(layer)
    if not layers:
        layers = [dict(RELU)]
    return layers, shape


# ------------------------------------------------------------------------------------ shapes

SHAPE_CONV = [
    ([conv(8, 3, padding=1), RELU, conv(16, 3, stride=2, padding=1)], (2, 3, 17, 17)),
    ([conv(4, 5, stride=3), conv(6, 2, stride=2)], (1, 2, 23, 23)),
    ([conv(64, 7, stride=2, padding=3, bias=False)], (1, 3, 224, 224)),
    ([conv(3, 1, padding=2), conv(2, 3, stride=2)], (1, 1, 1, 1)),   # padding wider than the kernel
    ([conv(2, 3)], (2, 1, 3, 3)),                                      # an output of exactly 1
]


@settings(max_examples=4, **HYPOTHESIS)
@given(case=stacks(kinds=("conv", "relu")))
def test_shape_conv(case):
    """output shape of convolutions (stride, padding; channels become out_channels)"""
    for layers, shape in SHAPE_CONV + [case]:
        check_key(layers, shape, "shape")


SHAPE_POOL = [
    ([pool("maxpool", 2), pool("avgpool", 3, stride=2, padding=1)], (2, 3, 17, 17)),
    ([pool("maxpool", 3, stride=2, padding=1), pool("avgpool", 2, stride=1)], (1, 4, 56, 56)),
    ([pool("avgpool", 3, stride=None), RELU], (2, 1, 10, 10)),
]


@settings(max_examples=4, **HYPOTHESIS)
@given(case=stacks(kinds=("maxpool", "avgpool", "relu")))
def test_shape_pool(case):
    """output shape of max and average pooling (stride defaults to the kernel size)"""
    for layers, shape in SHAPE_POOL + [case]:
        check_key(layers, shape, "shape")


CEIL = [
    # the last window would start in the right padding: PyTorch drops it
    ([pool("maxpool", 2, stride=2, padding=1, ceil_mode=True)], (1, 1, 5, 5)),
    ([pool("avgpool", 2, stride=2, padding=1, ceil_mode=True)], (1, 2, 7, 7)),
    ([pool("maxpool", 3, stride=2, ceil_mode=True)], (2, 1, 10, 10)),
    # (n - k) divisible by the stride: rounding up adds nothing
    ([pool("maxpool", 3, stride=2, ceil_mode=True)], (1, 1, 7, 7)),
    ([pool("maxpool", 3, stride=2, padding=1, ceil_mode=True), pool("avgpool", 2, ceil_mode=True)],
     (1, 3, 21, 21)),
]


@settings(max_examples=4, **HYPOTHESIS)
@given(case=stacks(kinds=("maxpool", "avgpool"), ceil=True))
def test_shape_ceil_mode(case):
    """pooling with ceil_mode=True (rounding up, but no window starting in the right padding)"""
    for layers, shape in CEIL + [case]:
        check_key(layers, shape, "shape")


PAIRS = [
    ([conv(4, (3, 5), stride=(1, 2), padding=(0, 2))], (1, 2, 12, 20)),
    ([conv(2, (1, 3), dilation=(2, 1)), pool("maxpool", (2, 3), stride=(2, 1), padding=(1, 0))],
     (2, 1, 15, 9)),
    ([pool("avgpool", (3, 1), padding=(1, 0)), conv(3, (2, 4), stride=(3, 1))],
     (1, 1, 16, 11)),
]


@settings(max_examples=4, **HYPOTHESIS)
@given(case=stacks(pairs=True))
def test_shape_pairs(case):
    """output shape with (h, w) pairs and non-square inputs"""
    for layers, shape in PAIRS + [case]:
        check_key(layers, shape, "shape")


# ------------------------------------------------------------------------ receptive field, jump

RF = [
    ([conv(4, 3), conv(4, 3)], (1, 1, 12, 12)),
    ([conv(4, 3, stride=2, padding=1), conv(4, 3, padding=1), pool("maxpool", 2), conv(2, 3)],
     (1, 2, 32, 32)),
    ([conv(64, 7, stride=2, padding=3), pool("maxpool", 3, stride=2, padding=1), RELU],
     (1, 3, 64, 64)),
    ([pool("avgpool", 2), RELU, conv(2, 5, stride=3)], (1, 1, 30, 30)),
]


@settings(max_examples=4, **HYPOTHESIS)
@given(case=stacks())
def test_receptive_field(case):
    """receptive field in input pixels (the standard recurrence: padding does not change it)"""
    for layers, shape in RF + [case]:
        check_key(layers, shape, "receptive_field")


DILATED = [
    ([conv(2, 3, dilation=2)], (1, 1, 12, 12)),
    ([conv(2, 3, stride=2), conv(2, 3, dilation=3, padding=1)], (1, 1, 30, 30)),
    ([conv(2, 2, dilation=2), RELU, pool("maxpool", 2), conv(2, 3, dilation=2)], (1, 2, 28, 28)),
]


@settings(max_examples=4, **HYPOTHESIS)
@given(case=stacks(kinds=("conv", "relu", "maxpool"), dilation=True))
def test_receptive_field_dilation(case):
    """receptive field through dilated convolutions (k_eff = d * (k - 1) + 1)"""
    for layers, shape in DILATED + [case]:
        check_key(layers, shape, "receptive_field")


@settings(max_examples=4, **HYPOTHESIS)
@given(case=stacks(pairs=True))
def test_receptive_field_pairs(case):
    """receptive field with (h, w) pairs (each axis on its own)"""
    for layers, shape in PAIRS + [case]:
        check_key(layers, shape, "receptive_field")


JUMP = [
    ([conv(4, 3, stride=2), conv(4, 3, stride=3)], (1, 1, 40, 40)),
    ([conv(4, 3, padding=1), pool("maxpool", 2), pool("avgpool", 3, stride=2), RELU], (1, 2, 30, 30)),
    ([pool("maxpool", 3, stride=None), conv(2, 1)], (1, 1, 20, 20)),
]


@settings(max_examples=4, **HYPOTHESIS)
@given(case=stacks())
def test_jump(case):
    """jump (effective stride in input pixels) after each layer"""
    for layers, shape in JUMP + [case]:
        check_key(layers, shape, "jump")


@settings(max_examples=4, **HYPOTHESIS)
@given(case=stacks(pairs=True))
def test_jump_pairs(case):
    """jump with (h, w) pairs (each axis on its own)"""
    for layers, shape in PAIRS + [case]:
        check_key(layers, shape, "jump")


EMPIRICAL = RF + DILATED + PAIRS[:2] + [
    ([conv(2, 2, stride=3), conv(2, 3, stride=2)], (1, 1, 30, 30)),     # gaps between taps
]


def _check_measured(layers, shape, key):
    layers, shape = _measurable(layers, shape)
    got, call = answer(layers, shape)
    expect(got, call, layers, key, [m[key] for m in _windows(layers, shape)])


@settings(max_examples=2, **HYPOTHESIS)
@given(case=stacks(dilation=True, pairs=True))
def test_receptive_field_empirical(case):
    """receptive field measured: the input pixels one output pixel's gradient reaches"""
    for layers, shape in EMPIRICAL + [case]:
        _check_measured(layers, shape, "receptive_field")


@settings(max_examples=2, **HYPOTHESIS)
@given(case=stacks(dilation=True, pairs=True))
def test_jump_empirical(case):
    """jump measured: how far the input window moves from one output pixel to the next"""
    for layers, shape in EMPIRICAL + [case]:
        _check_measured(layers, shape, "jump")


# ------------------------------------------------------------------------ parameters, MACs

@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_params(bias):
    """parameter count of each layer (weights, plus the bias when there is one)"""
    cases = [([conv(8, 3, bias=bias), RELU, conv(5, 1, bias=bias), pool("maxpool", 2)],
              (1, 3, 16, 16)),
             ([conv(1, 5, stride=2, padding=2, bias=bias), pool("avgpool", 2),
               conv(7, 1, bias=bias)], (2, 2, 20, 20))]
    for layers, shape in cases:
        check_key(layers, shape, "params")


GROUPED = [
    ([conv(8, 3, groups=2), conv(8, 3, groups=8, padding=1)], (1, 4, 12, 12)),
    ([conv(6, 1, groups=3, bias=False), RELU, conv(12, 3, groups=6, stride=2)], (2, 6, 11, 11)),
]


@settings(max_examples=4, **HYPOTHESIS)
@given(case=stacks(kinds=("conv", "relu"), groups=True))
def test_params_groups(case):
    """parameter count of grouped and depthwise convolutions"""
    for layers, shape in GROUPED + [case]:
        check_key(layers, shape, "params")


MACS = [
    ([conv(8, 3, padding=1), RELU, conv(5, 3, stride=2, bias=False)], (2, 3, 16, 16)),
    ([conv(4, 5, dilation=1, padding=2), pool("maxpool", 2), conv(3, 1)], (3, 2, 10, 10)),
]


@settings(max_examples=4, **HYPOTHESIS)
@given(case=stacks())
def test_macs(case):
    """multiply-accumulates per layer (FlopCounterMode's FLOPs / 2; pools and ReLU do none)"""
    for layers, shape in MACS + [case]:
        check_key(layers, shape, "macs")


@settings(max_examples=4, **HYPOTHESIS)
@given(case=stacks(kinds=("conv", "relu"), groups=True))
def test_macs_groups(case):
    """multiply-accumulates of grouped and depthwise convolutions"""
    for layers, shape in GROUPED + [case]:
        check_key(layers, shape, "macs")


# ------------------------------------------------------------------------ activation memory

MEMORY = [([conv(8, 3, padding=1), RELU, pool("maxpool", 2), conv(3, 3, stride=2)], (2, 3, 16, 16))]


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_activation_bytes(dtype):
    """activation memory: output elements x bytes per element of the dtype"""
    for layers, shape in MEMORY:
        check_key(layers, shape, "activation_bytes", dtype=dtype)


def test_activation_bytes_default_dtype():
    """activation memory with the default dtype (float32)"""
    for layers, shape in MEMORY:
        check_key(layers, shape, "activation_bytes")


# ------------------------------------------------------------------------ defaults, everything

def _same_answer(short, full, shape):
    got_short, call_short = answer(short, shape)
    got_full, call_full = answer(full, shape)
    for key in KEYS:
        wants = []
        for i, _ in enumerate(full):
            entry = got_full[i] if type(got_full) in (list, tuple) and i < len(got_full) else None
            h.check(isinstance(entry, dict) and key in entry,
                    f"{call_full}: item {i} is {h.describe(entry)}; expected a dict with {key!r}")
            wants.append(_value(entry[key]))
        expect(got_short, call_short, short, key, wants)


DEFAULTS = [
    ([conv(8, 3)], [conv(8, 3, stride=1, padding=0, dilation=1, groups=1, bias=True)]),
    ([pool("maxpool", 2)], [pool("maxpool", 2, stride=2, padding=0, ceil_mode=False)]),
    ([pool("avgpool", 3, stride=None)], [pool("avgpool", 3, stride=3, padding=0, ceil_mode=False)]),
]


def test_defaults():
    """missing optional keys take nn.Conv2d's / nn.MaxPool2d's defaults (pool stride = kernel)"""
    for short, full in DEFAULTS:
        _same_answer(short, full, (2, 4, 12, 12))


@settings(max_examples=6, **HYPOTHESIS)
@given(case=stacks(dilation=True, groups=True, ceil=True, pairs=True, max_layers=4),
       dtype=st.sampled_from(list(DTYPES)))
def test_mixed_stack(case, dtype):
    """every quantity of a stack drawn with every option at once"""
    layers, shape = case
    got, call = answer(layers, shape, dtype=dtype)
    torch_side, rec = torch_plan(layers, shape), recurrence(layers)
    size = torch.empty(0, dtype=DTYPES[dtype]).element_size()
    for key in KEYS:
        if key in ("receptive_field", "jump"):
            wants = [r[key] for r in rec]
        elif key == "activation_bytes":
            wants = [torch.Size(r["shape"]).numel() * size for r in torch_side]
        else:
            wants = [r[key] for r in torch_side]
        expect(got, call, layers, key, wants)


def test_return_type():
    """returns a list of dicts with exactly the six keys, tuples of Python ints and ints"""
    layers, shape = [conv(4, 3), RELU, pool("maxpool", 2)], (1, 2, 10, 10)
    got, call = answer(layers, shape)
    h.check(type(got) is list and len(got) == 3,
            f"{call} returned {h.describe(got)}; expected a list of 3 dicts")
    for i, entry in enumerate(got):
        h.check(type(entry) is dict and set(entry) == set(KEYS),
                f"{call}: item {i} is {h.describe(entry)}; expected a dict with exactly the keys "
                f"{', '.join(KEYS)}")
        for key, length in (("shape", 4), ("receptive_field", 2), ("jump", 2)):
            v = entry[key]
            h.check(type(v) is tuple and len(v) == length and all(type(x) is int for x in v),
                    f"{call}: item {i}[{key!r}] is {h.describe(v)} ({type(v).__name__}); "
                    f"expected a tuple of {length} Python ints")
        for key in ("params", "macs", "activation_bytes"):
            h.check(type(entry[key]) is int,
                    f"{call}: item {i}[{key!r}] is {h.describe(entry[key])} "
                    f"({type(entry[key]).__name__}); expected a Python int")


def test_layers_unchanged():
    """the layer descriptions passed in are left unchanged"""
    layers = [conv(4, 3), pool("maxpool", 2), RELU, pool("avgpool", 2, stride=None)]
    before = copy.deepcopy(layers)
    fn = h.candidate(MODULE).plan
    h.call(fn, layers, (1, 2, 12, 12))
    h.check(layers == before, f"{h.last_call()} changed its layers argument: it was {before}, "
            f"now {layers}; read the defaults without writing them into the caller's dicts")


# ------------------------------------------------------------------------------------ errors

ERRORS = {
    "kernel-too-large": ([conv(2, 5)], (1, 1, 4, 4)),
    "dilated-too-large": ([conv(2, 3, dilation=3)], (1, 1, 6, 6)),
    "later-layer-too-large": ([conv(2, 3, stride=2), conv(2, 3)], (1, 1, 5, 5)),
    "pool-too-large": ([pool("maxpool", 3, stride=1)], (1, 1, 2, 2)),
    "groups-in-channels": ([conv(4, 1, groups=2)], (1, 3, 8, 8)),
    "groups-out-channels": ([conv(3, 1, groups=2)], (1, 4, 8, 8)),
    "pool-padding": ([pool("avgpool", 3, padding=2)], (1, 1, 8, 8)),
    "unknown-type": ([{"type": "batchnorm"}], (1, 1, 8, 8)),
}


def _raises_value_error(fn):
    def plan(*args, **kwargs):
        try:
            return False, fn(*args, **kwargs)
        except ValueError:
            return True, None
    plan.__qualname__ = "plan"
    return plan


@pytest.mark.parametrize("case", list(ERRORS) + ["unknown-dtype"])
def test_errors(case):
    """raises ValueError where PyTorch refuses the layer (or the type or dtype is unknown)"""
    layers, shape = ERRORS.get(case, ([conv(2, 3)], (1, 1, 8, 8)))
    kwargs = {"dtype": "float8"} if case == "unknown-dtype" else {}
    if case not in ("unknown-type", "unknown-dtype"):
        assert not _fits(layers, shape), case           # PyTorch itself refuses it
    fn = h.candidate(MODULE).plan
    try:
        raised, got = h.call(_raises_value_error(fn), copy.deepcopy(layers), shape, **kwargs)
    except h.Tampered:
        raise
    except h.CheckFailed as exc:
        raise h.CheckFailed(f"{h.safe_str(exc, 1500)}; expected a ValueError") from None
    h.check(raised, f"{h.last_call()} returned {h.describe(got)}; expected a ValueError")
