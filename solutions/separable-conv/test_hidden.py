"""Hidden checks for separable-conv (DepthwiseSeparableConv2d and conv_cost).

Oracles: torch.nn.functional.conv2d compositions on our own copies of the weights, real
nn.Conv2d modules, and hand-computed figures.

Independent credit: only test_structure judges that the submodules are *plain* nn.Conv2d and
that there are exactly two of them; the other layer checks accept any nn.Conv2d. conv_cost
value checks compare numbers (an int-valued float counts as its value); only
test_cost_returns_ints judges the return type. Checks of the standard and separable counts are
parametrised apart, bias=False is judged by test_cost_bias_adds_no_macs only, (h, w) pairs by
test_cost_non_square only; interactions by test_cost_against_modules. contract.toml maps every
README clause to its check and wrong/ variant; partial/ holds conv_cost implementations
lacking one feature each, with the checks they are allowed to fail.
"""

import operator

import pytest
import torch
import torch.nn.functional as F
from hypothesis import Phase, given, settings, strategies as st
from torch import nn

from grader import harness as h

MODULE = "separable"
# No shrinking, no example database: a failing candidate must fail fast, and every run stays
# within the exercise's time limit.
FAST = dict(deadline=None, database=None, report_multiple_bugs=False,
            phases=(Phase.explicit, Phase.generate))


# ------------------------------------------------------------------------------------ helpers

def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _label(cin, cout, kernel, stride=1, padding=0, dilation=1, bias=True):
    return (f"DepthwiseSeparableConv2d({cin}, {cout}, {kernel}, stride={stride}, "
            f"padding={padding!r}, dilation={dilation}, bias={bias})")


def _build(cin, cout, kernel, stride=1, padding=0, dilation=1, bias=True):
    """Construct the candidate's layer; check it is an nn.Module with both submodules."""
    mod = h.candidate(MODULE)
    layer = h.call(mod.DepthwiseSeparableConv2d, cin, cout, kernel, stride=stride,
                   padding=padding, dilation=dilation, bias=bias)
    label = _label(cin, cout, kernel, stride, padding, dilation, bias)
    h.check(isinstance(layer, nn.Module),
            f"{label} built {h.describe(layer)}; expected an nn.Module")
    subs = layer.__dict__.get("_modules") or {}
    for name in ("depthwise", "pointwise"):
        sub = subs.get(name)
        h.check(isinstance(sub, nn.Conv2d),
                f"{label}: self.{name} is {h.describe(sub)}; expected an nn.Conv2d "
                f"assigned as a submodule (self.{name} = nn.Conv2d(...))")
    return layer, subs["depthwise"], subs["pointwise"], label


def _forward(layer, x, label):
    def run(t):
        return layer(t)
    run.__qualname__ = "layer"
    out = h.call(run, x)
    return out, f"{label}(input {h.describe(x)})"


def _install(conv, weight, bias):
    """Give `conv` our own weight/bias (fresh Parameters); returns them for reading .grad."""
    w = nn.Parameter(weight.clone())
    conv.weight = w
    b = None
    if bias is not None:
        b = nn.Parameter(bias.clone())
        conv.bias = b
    return w, b


def _as_cost(got, call):
    """(parameters, macs) as Python ints. Value checks accept an int-valued float (the type is
    test_cost_returns_ints' business); anything else fails with a message."""
    h.check(type(got) in (tuple, list) and len(got) == 2,
            f"{call} returned {h.describe(got)}; expected a tuple (parameters, macs) of two ints")
    out = []
    for what, v in zip(("parameters", "macs"), got):
        value = None
        if type(v) is float and v == v and abs(v) != float("inf") and v == int(v):
            value = int(v)
        elif type(v) is not bool and not isinstance(v, float):
            try:
                value = operator.index(v)
            except Exception:  # noqa: BLE001 - candidate object without a usable __index__
                value = None
        h.check(value is not None,
                f"{call} returned {what} = {h.describe(v)}; expected an int")
        out.append(value)
    return tuple(out)


def _cost(cin, cout, kernel, output, **kwargs):
    mod = h.candidate(MODULE)
    got = h.call(mod.conv_cost, cin, cout, kernel, output, **kwargs)
    call = h.last_call()
    return _as_cost(got, call), call


def _oracle_cost(cin, cout, kernel, output, separable=False, bias=True):
    """Hand formula (see README): bias terms are parameters, never MACs."""
    kh, kw = _pair(kernel)
    oh, ow = _pair(output)
    if not separable:
        return cout * cin * kh * kw + (cout if bias else 0), cout * oh * ow * cin * kh * kw
    params = cin * kh * kw + (cin if bias else 0) + cout * cin + (cout if bias else 0)
    return params, cin * oh * ow * kh * kw + cout * oh * ow * cin


def _module_cost(cin, cout, kernel, output, separable=False, bias=True):
    """Count with real nn.Conv2d modules: params = numel; MACs = output elements x
    (weight elements per output channel), on an input sized to give `output`."""
    kh, kw = _pair(kernel)
    oh, ow = _pair(output)
    if separable:
        convs = [nn.Conv2d(cin, cin, (kh, kw), groups=cin, bias=bias),
                 nn.Conv2d(cin, cout, 1, bias=bias)]
    else:
        convs = [nn.Conv2d(cin, cout, (kh, kw), bias=bias)]
    x = torch.zeros(1, cin, oh + kh - 1, ow + kw - 1)
    params = macs = 0
    with torch.no_grad():
        for conv in convs:
            x = conv(x)
            params += sum(p.numel() for p in conv.parameters())
            macs += x.numel() * conv.weight[0].numel()
    assert tuple(x.shape[-2:]) == (oh, ow)
    return params, macs


def _compare_cost(got, want, call, why=""):
    h.check(got == want,
            f"{call} returned (parameters, macs) = {got}; expected {want}{why}")


# ------------------------------------------------------------------------------- strategies

size = st.integers(1, 4)
kernels = st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4)))
small = st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))
paddings = st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)))


@st.composite
def layer_configs(draw):
    cin, cout = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    kernel = draw(kernels)
    stride, dilation = draw(small), draw(small)
    padding = draw(st.one_of(paddings, st.just("valid")))
    if draw(st.booleans()) and stride == 1:
        padding = "same"
    kh, kw = _pair(kernel)
    dh, dw = _pair(dilation)
    height = dh * (kh - 1) + 1 + draw(st.integers(0, 5))
    width = dw * (kw - 1) + 1 + draw(st.integers(0, 5))
    return dict(cin=cin, cout=cout, kernel=kernel, stride=stride, padding=padding,
                dilation=dilation, bias=draw(st.booleans()),
                n=draw(st.integers(1, 2)), hw=(height, width))


def _layer_args(cfg):
    return (cfg["cin"], cfg["cout"], cfg["kernel"], cfg["stride"], cfg["padding"],
            cfg["dilation"], cfg["bias"])


# ------------------------------------------------------------------------------- the layer

@settings(max_examples=20, **FAST)
@given(cin=st.integers(1, 8), cout=st.integers(1, 8), kernel=kernels, bias=st.booleans())
def test_structure(cin, cout, kernel, bias):
    """exactly two plain nn.Conv2d submodules with the right channels, kernels and groups"""
    layer, dw, pw, label = _build(cin, cout, kernel, bias=bias)
    subs = layer.__dict__.get("_modules") or {}
    h.check(sorted(subs) == ["depthwise", "pointwise"],
            f"{label} has the submodules {sorted(subs)}; expected exactly two, "
            "['depthwise', 'pointwise']")
    for name, sub in (("depthwise", dw), ("pointwise", pw)):
        h.check(type(sub) is nn.Conv2d,
                f"{label}: self.{name} is {h.describe(sub)}; expected a plain nn.Conv2d "
                "(not a subclass)")
    kh, kw = _pair(kernel)
    facts = [
        ("depthwise.in_channels", dw.in_channels, cin),
        ("depthwise.out_channels", dw.out_channels, cin),
        ("depthwise.groups", dw.groups, cin),
        ("depthwise.kernel_size", tuple(dw.kernel_size), (kh, kw)),
        ("depthwise.weight.shape", _shape(dw.weight), (cin, 1, kh, kw)),
        ("pointwise.in_channels", pw.in_channels, cin),
        ("pointwise.out_channels", pw.out_channels, cout),
        ("pointwise.groups", pw.groups, 1),
        ("pointwise.kernel_size", tuple(pw.kernel_size), (1, 1)),
        ("pointwise.weight.shape", _shape(pw.weight), (cout, cin, 1, 1)),
    ]
    for name, got, want in facts:
        h.check(got == want, f"{label}: {name} is {got}; expected {want}")


@pytest.mark.parametrize("bias", [True, False])
def test_bias(bias):
    """both convs have a bias exactly when bias=True"""
    layer, dw, pw, label = _build(3, 5, 3, bias=bias)
    for name, conv, n in (("depthwise", dw, 3), ("pointwise", pw, 5)):
        b = conv.bias
        if bias:
            h.check(isinstance(b, nn.Parameter) and tuple(b.shape) == (n,),
                    f"{label}: {name}.bias is {h.describe(b)}; expected a Parameter of "
                    f"shape [{n}] (with bias=True both convs have a bias)")
        else:
            h.check(b is None, f"{label}: {name}.bias is {h.describe(b)}; expected None "
                    "(bias=False: neither conv has a bias)")


def test_defaults():
    """the defaults of __init__ are nn.Conv2d's: stride=1, padding=0, dilation=1, bias=True"""
    mod = h.candidate(MODULE)
    layer = h.call(mod.DepthwiseSeparableConv2d, 4, 6, 3)
    label = "DepthwiseSeparableConv2d(4, 6, 3)"
    h.check(isinstance(layer, nn.Module), f"{label} built {h.describe(layer)}; expected an nn.Module")
    subs = layer.__dict__.get("_modules") or {}
    dw, pw = subs.get("depthwise"), subs.get("pointwise")
    h.check(isinstance(dw, nn.Conv2d) and isinstance(pw, nn.Conv2d),
            f"{label}: self.depthwise and self.pointwise are {h.describe(dw)} and "
            f"{h.describe(pw)}; expected two nn.Conv2d submodules")
    for name, want in (("stride", (1, 1)), ("padding", (0, 0)), ("dilation", (1, 1))):
        got = getattr(dw, name)
        h.check(got == want, f"{label}: depthwise.{name} is {got!r}; expected {want!r} (the "
                f"default {name} of __init__ is nn.Conv2d's)")
    for name, conv in (("depthwise", dw), ("pointwise", pw)):
        h.check(isinstance(conv.bias, nn.Parameter),
                f"{label}: {name}.bias is {h.describe(conv.bias)}; expected a Parameter "
                "(bias=True is the default)")


@settings(max_examples=20, **FAST)
@given(stride=small, padding=st.one_of(paddings, st.just("valid")), dilation=small)
def test_spatial_arguments_on_depthwise(stride, padding, dilation):
    """stride, padding and dilation are applied by the depthwise conv only"""
    layer, dw, pw, label = _build(4, 6, 3, stride=stride, padding=padding, dilation=dilation)
    want = nn.Conv2d(4, 4, 3, stride=stride, padding=padding, dilation=dilation, groups=4)
    for name in ("stride", "padding", "dilation"):
        got = getattr(dw, name)
        h.check(got == getattr(want, name),
                f"{label}: depthwise.{name} is {got!r}; expected {getattr(want, name)!r}")
    for name, plain in (("stride", (1, 1)), ("padding", (0, 0)), ("dilation", (1, 1))):
        got = getattr(pw, name)
        h.check(got == plain,
                f"{label}: pointwise.{name} is {got!r}; expected {plain!r} (the 1x1 conv "
                "must not change the spatial size: stride, padding and dilation belong to "
                "the depthwise conv)")


def _reference_forward(cfg, x, dw_w, dw_b, pw_w, pw_b):
    y = F.conv2d(x, dw_w, dw_b, stride=cfg["stride"], padding=cfg["padding"],
                 dilation=cfg["dilation"], groups=cfg["cin"])
    return F.conv2d(y, pw_w, pw_b)


def _weights(cfg, dtype):
    cin, cout = cfg["cin"], cfg["cout"]
    kh, kw = _pair(cfg["kernel"])
    dw_w, pw_w = h.randn(cin, 1, kh, kw, dtype=dtype), h.randn(cout, cin, 1, 1, dtype=dtype)
    dw_b = h.randn(cin, dtype=dtype) if cfg["bias"] else None
    pw_b = h.randn(cout, dtype=dtype) if cfg["bias"] else None
    return dw_w, dw_b, pw_w, pw_b


def _shape(t):
    """The shape of a tensor as a tuple; None for anything else (never raises)."""
    return tuple(t.shape) if isinstance(t, torch.Tensor) else None


def _check_weight_shapes(dw, pw, cfg, label):
    kh, kw = _pair(cfg["kernel"])
    for name, conv, shape in (("depthwise", dw, (cfg["cin"], 1, kh, kw)),
                              ("pointwise", pw, (cfg["cout"], cfg["cin"], 1, 1))):
        got = _shape(conv.weight)
        h.check(got is not None, f"{label}: {name}.weight is {h.describe(conv.weight)}; "
                f"expected a tensor of shape {list(shape)}")
        h.check(got == shape, f"{label}: {name}.weight has shape {list(got)}; "
                f"expected {list(shape)}")
        if cfg["bias"]:
            h.check(conv.bias is not None, f"{label}: {name}.bias is None; expected a bias")


@pytest.mark.points(2)
@settings(max_examples=25, **FAST)
@given(cfg=layer_configs(), dtype=st.sampled_from([torch.float32, torch.float64]))
def test_forward_values(cfg, dtype):
    """forward equals the depthwise conv followed by the pointwise conv (given weights)"""
    layer, dw, pw, label = _build(*_layer_args(cfg))
    _check_weight_shapes(dw, pw, cfg, label)
    dw_w, dw_b, pw_w, pw_b = _weights(cfg, dtype)
    _install(dw, dw_w, dw_b)
    _install(pw, pw_w, pw_b)
    x = h.randn(cfg["n"], cfg["cin"], *cfg["hw"], dtype=dtype)
    want = _reference_forward(cfg, x.clone(), dw_w, dw_b, pw_w, pw_b)
    x_before = x.clone()
    got, call = _forward(layer, x, label)
    h.assert_unchanged(x_before, x, "input", call)
    kh, kw = _pair(cfg["kernel"])
    h.assert_close(got, want, call=call, reduction=kh * kw + cfg["cin"],
                   expected_from="F.conv2d(F.conv2d(x, depthwise...), pointwise...)")


OUTPUT_SHAPE_CASES = [
    # (cin, cout, kernel, stride, padding, dilation, input H, W)
    (8, 16, 3, 1, 1, 1, 10, 10),
    (8, 16, 3, 2, 1, 1, 11, 11),
    (3, 7, (3, 5), (2, 1), (1, 2), 1, 9, 12),
    (4, 2, 3, 1, 0, 2, 13, 9),
    (5, 6, (5, 3), 3, 2, (2, 1), 17, 10),
    (6, 4, 3, 1, "same", 3, 8, 8),
]


@pytest.mark.parametrize("case", OUTPUT_SHAPE_CASES, ids=lambda c: "x".join(map(str, c[-2:])))
def test_output_shape(case):
    """output shape equals nn.Conv2d's with the same arguments"""
    cin, cout, kernel, stride, padding, dilation, height, width = case
    layer, _, _, label = _build(cin, cout, kernel, stride, padding, dilation)
    x = h.randn(2, cin, height, width)
    want = nn.Conv2d(cin, cout, kernel, stride, padding, dilation)(x.clone()).shape
    got, call = _forward(layer, x, label)
    h.check(type(got) is torch.Tensor, f"{call} returned {h.describe(got)}; expected a Tensor")
    h.check(tuple(got.shape) == tuple(want),
            f"{call} returned shape {list(got.shape)}; expected {list(want)}, the shape "
            f"nn.Conv2d({cin}, {cout}, {kernel}, {stride}, {padding!r}, {dilation}) gives")


def _run_backward(output, grad_output):
    """output.backward(grad_output): the candidate's graph runs under the guard."""
    output.backward(grad_output)


@settings(max_examples=10, **FAST)
@given(cfg=layer_configs())
def test_gradients(cfg):
    """gradients reach the input and both convs' weights and biases"""
    layer, dw, pw, label = _build(*_layer_args(cfg))
    _check_weight_shapes(dw, pw, cfg, label)
    dtype = torch.float64
    dw_w, dw_b, pw_w, pw_b = _weights(cfg, dtype)
    params = [*_install(dw, dw_w, dw_b), *_install(pw, pw_w, pw_b)]
    x = h.randn(cfg["n"], cfg["cin"], *cfg["hw"], dtype=dtype)
    ref = [t.clone().requires_grad_() for t in (x, dw_w, dw_b, pw_w, pw_b) if t is not None]
    ref_args = iter(ref)
    rx, rdw_w = next(ref_args), next(ref_args)
    rdw_b = next(ref_args) if cfg["bias"] else None
    rpw_w = next(ref_args)
    rpw_b = next(ref_args) if cfg["bias"] else None
    want = _reference_forward(cfg, rx, rdw_w, rdw_b, rpw_w, rpw_b)
    grad_out = h.randn(*want.shape, dtype=dtype)
    want_grads = torch.autograd.grad(want, ref, grad_out)

    xin = x.clone().requires_grad_()
    got, call = _forward(layer, xin, label)
    h.assert_close(got, want.detach(), call=call, reduction=64)
    h.check(got.requires_grad, f"{call} returned a tensor that does not require grad; "
            "the layer must stay differentiable (no torch.no_grad, no .detach())")
    h.call(_run_backward, got, grad_out)
    names = ["input", "depthwise.weight", "depthwise.bias", "pointwise.weight",
             "pointwise.bias"]
    if not cfg["bias"]:
        names = [n for n in names if not n.endswith("bias")]
    mine = [xin] + [p for p in params if p is not None]
    for name, tensor, want_grad in zip(names, mine, want_grads):
        h.check(tensor.grad is not None, f"after backward through {call}, {name}.grad is "
                "None; gradients must reach every parameter the layer uses (no .detach(), "
                ".data or torch.no_grad in forward)")
        h.assert_close(tensor.grad, want_grad, what=f"gradient of {name}", reduction=64,
                       call=f"backward through {call}")


@settings(max_examples=15, **FAST)
@given(cin=st.integers(1, 12), cout=st.integers(1, 12), kernel=st.integers(1, 4),
       bias=st.booleans())
def test_parameter_count(cin, cout, kernel, bias):
    """the layer's parameter count equals conv_cost(..., separable=True)[0]"""
    layer, _, _, label = _build(cin, cout, kernel, bias=bias)
    have = sum(p.numel() for p in nn.Module.parameters(layer))
    want = _oracle_cost(cin, cout, kernel, 1, separable=True, bias=bias)[0]
    h.check(have == want, f"{label} has {have} parameters; expected {want} "
            f"(depthwise {cin}x1x{kernel} weights, pointwise {cout}x{cin}x1x1, plus biases)")
    (params, _), call = _cost(cin, cout, kernel, 5, separable=True, bias=bias)
    h.check(params == have, f"{call} says {params} parameters but {label} has {have}")


# ------------------------------------------------------------------------------- conv_cost

STANDARD = [  # (args, kwargs, (parameters, macs)) computed by hand
    ((64, 128, 3, 56), {}, (73856, 231211008)),
    ((3, 32, 3, 112), {}, (896, 10838016)),
    ((512, 512, 3, 7), {}, (2359808, 115605504)),
    ((1, 1, 1, 1), {}, (2, 1)),
]
SEPARABLE = [
    ((64, 128, 3, 56), {}, (8960, 27496448)),
    ((3, 32, 3, 112), {}, (158, 1542912)),
    ((512, 512, 3, 7), {}, (267776, 13070848)),
    ((1, 1, 1, 1), {}, (4, 2)),
]


@pytest.mark.points(1)
def test_cost_standard_figures():
    """conv_cost of standard convs matches hand-computed figures"""
    for args, kwargs, want in STANDARD:
        got, call = _cost(*args, **kwargs)
        _compare_cost(got, want, call, " (parameters = C_out*C_in*kh*kw + C_out bias terms; "
                      "MACs = C_out*H_out*W_out outputs x C_in*kh*kw each)")


@pytest.mark.points(2)
def test_cost_separable_figures():
    """conv_cost of depthwise-separable convs matches hand-computed figures"""
    for args, kwargs, want in SEPARABLE:
        got, call = _cost(*args, separable=True, **kwargs)
        _compare_cost(got, want, call, " (depthwise: C_in filters of kh*kw, each output "
                      "element costs kh*kw MACs; pointwise: C_out x C_in at every pixel)")


@pytest.mark.points(2)
@settings(max_examples=25, **FAST)
@given(cin=st.integers(1, 6), cout=st.integers(1, 6),
       kernel=st.one_of(st.integers(1, 5), st.tuples(st.integers(1, 5), st.integers(1, 5))),
       output=st.one_of(st.integers(1, 6), st.tuples(st.integers(1, 6), st.integers(1, 6))),
       separable=st.booleans(), bias=st.booleans())
def test_cost_against_modules(cin, cout, kernel, output, separable, bias):
    """conv_cost agrees with counts taken from real nn.Conv2d modules"""
    want = _module_cost(cin, cout, kernel, output, separable=separable, bias=bias)
    got, call = _cost(cin, cout, kernel, output, separable=separable, bias=bias)
    _compare_cost(got, want, call, " (counted on real nn.Conv2d modules: parameters = "
                  "numel of weights and biases, MACs = output elements x weight elements "
                  "per output channel)")


NON_SQUARE = [((16, 24, (1, 7), (14, 3)), {}), ((16, 24, (7, 1), (3, 14)), {}),
              ((5, 9, (3, 5), 4), {}), ((5, 9, 3, (4, 11)), {}), ((2, 3, (2, 6), (9, 1)), {})]


@pytest.mark.parametrize("separable", [False, True], ids=["standard", "separable"])
def test_cost_non_square(separable):
    """conv_cost with non-square kernels and outputs, given as ints or (h, w) pairs"""
    for args, kwargs in NON_SQUARE:
        want = _oracle_cost(*args, separable=separable, **kwargs)
        got, call = _cost(*args, separable=separable, **kwargs)
        _compare_cost(got, want, call, " (a kernel (kh, kw) has kh*kw taps; an output "
                      "(H, W) has H*W pixels)")


@pytest.mark.parametrize("separable", [False, True], ids=["standard", "separable"])
def test_cost_bias_adds_no_macs(separable):
    """bias adds parameters (C_out, or C_in + C_out when separable) but no MACs"""
    for cin, cout, kernel, output in [(64, 128, 3, 56), (3, 32, 3, 112), (7, 5, 1, 9),
                                      (1, 1, 1, 1)]:
        (p1, m1), call1 = _cost(cin, cout, kernel, output, separable=separable, bias=True)
        (p0, m0), call0 = _cost(cin, cout, kernel, output, separable=separable, bias=False)
        extra = cin + cout if separable else cout
        h.check(p1 - p0 == extra, f"{call1} gives {p1} parameters and {call0} gives {p0}; "
                f"the difference must be the {extra} bias terms"
                + (" (with bias=True both convs have a bias)" if separable else ""))
        h.check(m1 == m0, f"{call1} gives {m1} MACs and {call0} gives {m0}; bias additions "
                "are not multiply-accumulates, so the MAC count must not depend on bias")
        want = _oracle_cost(cin, cout, kernel, output, separable=separable, bias=False)
        _compare_cost((p0, m0), want, call0)


@pytest.mark.parametrize("separable", [False, True], ids=["standard", "separable"])
def test_cost_returns_ints(separable):
    """conv_cost returns a tuple of two Python ints"""
    mod = h.candidate(MODULE)
    got = h.call(mod.conv_cost, 64, 128, 3, 56, separable=separable)
    call = h.last_call()
    h.check(type(got) is tuple,
            f"{call} returned {h.describe(got)} ({type(got).__name__}); expected a tuple "
            "(parameters, macs)")
    h.check(len(got) == 2 and all(type(v) is int for v in got),
            f"{call} returned ({', '.join(type(v).__name__ for v in got)}); expected two "
            "Python ints (integer arithmetic: use // not /, no float(), no tensors)")


def test_cost_ratio():
    """a separable 3x3 conv 64->128 at 56x56 is about 8.4x cheaper than a standard one"""
    (sp, sm), scall = _cost(64, 128, 3, 56)
    (dp, dm), dcall = _cost(64, 128, 3, 56, separable=True)
    _compare_cost((sp, sm), (73856, 231211008), scall)
    _compare_cost((dp, dm), (8960, 27496448), dcall)
    h.note(f"standard 3x3 conv 64->128 at 56x56: {sm / 1e6:.1f} MMACs, {sp:,} parameters; "
           f"separable: {dm / 1e6:.1f} MMACs, {dp:,} parameters "
           f"({sm / dm:.1f}x fewer MACs, {sp / dp:.1f}x fewer parameters). Per output pixel the "
           "cost falls from C_in*C_out*k^2 to C_in*(k^2 + C_out), a ratio of "
           "1/C_out + 1/k^2.")
