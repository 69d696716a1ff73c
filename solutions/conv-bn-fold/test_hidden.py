"""Hidden checks for conv-bn-fold (fold_conv_bn).

Oracle: eval-mode bn(conv(x)) computed by PyTorch on deep copies taken before the candidate
sees the modules.

Independent credit: value checks judge values only (whatever module came back, called on x);
that the result is a new, plain nn.Conv2d with Parameters and a bias is
test_returns_plain_conv_with_bias's business, the hyper-parameters test_hyperparameters', the
arguments staying untouched test_arguments_unchanged's. Every check uses the defaults (a
float64 3x3 conv with bias, affine BatchNorm, eval mode, groups 1, zeros padding) except for
the property it is named for; test_matches_float64 draws everything at once.
contract.toml maps every README clause to its check and wrong/ variant; partial/ holds folds
lacking one feature each, with the checks they are allowed to fail.
"""

import copy

import pytest
import torch
from hypothesis import Phase, given, settings, strategies as st
from torch import nn

from grader import harness as h

MODULE = "fold"
# No shrinking, no example database: a failing candidate must fail fast.
FAST = dict(deadline=None, database=None, report_multiple_bugs=False,
            phases=(Phase.explicit, Phase.generate))


# ------------------------------------------------------------------------------------ helpers

def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _make(cin=4, cout=6, kernel=3, stride=1, padding=1, dilation=1, groups=1, conv_bias=True,
          padding_mode="zeros", affine=True, eps=1e-5, dtype=torch.float64, conv_train=False,
          bn_train=False):
    """A conv and a BatchNorm2d with secret-seeded weights and non-trivial running stats."""
    conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, dilation=dilation,
                     groups=groups, bias=conv_bias, padding_mode=padding_mode, dtype=dtype)
    bn = nn.BatchNorm2d(cout, eps=eps, affine=affine, dtype=dtype)
    with torch.no_grad():
        conv.weight.copy_(h.randn(*conv.weight.shape, dtype=dtype) * 0.5)
        if conv_bias:
            conv.bias.copy_(h.randn(cout, dtype=dtype))
        bn.running_mean.copy_(h.randn(cout, dtype=dtype) * 2)
        var = torch.exp(h.randn(cout, dtype=dtype))               # spread over ~[0.05, 20]
        var[0] = var[0] * 1e-3                                     # one small variance: eps matters
        bn.running_var.copy_(var)
        bn.num_batches_tracked.fill_(17)
        if affine:
            bn.weight.copy_(h.randn(cout, dtype=dtype))
            bn.bias.copy_(h.randn(cout, dtype=dtype))
    conv.train(conv_train)
    bn.train(bn_train)
    return conv, bn


def _describe(conv, bn):
    return (f"fold_conv_bn({conv!r}{' [train mode]' if conv.training else ''}, "
            f"BatchNorm2d({bn.num_features}, eps={bn.eps:g}, affine={bn.affine})"
            f"{' [train mode]' if bn.training else ''})")


def _snapshot(module):
    tensors = {n: t.detach().clone() for n, t in module.state_dict(keep_vars=True).items()}
    grads = {n: p.requires_grad for n, p in module.named_parameters()}
    return tensors, grads, module.training


def _unchanged(module, snapshot, name, call):
    tensors, grads, training = snapshot
    now = module.state_dict(keep_vars=True)
    h.check(set(now) == set(tensors),
            f"{call} changed the entries of {name}: it had {sorted(tensors)}, now "
            f"{sorted(now)}; leave the arguments alone")
    for key, before in tensors.items():
        after = now[key]
        same = (type(after) in (torch.Tensor, nn.Parameter) and after.shape == before.shape
                and after.dtype == before.dtype and torch.equal(after.detach(), before))
        h.check(same, f"{call} modified {name}.{key}; the arguments must be left exactly as "
                "they were (build the folded conv from copies)")
    for key, flag in grads.items():
        p = dict(module.named_parameters()).get(key)
        h.check(p is not None and p.requires_grad == flag,
                f"{call} changed {name}.{key}.requires_grad")
    h.check(module.training == training,
            f"{call} changed {name}.training from {training} to {module.training} (did you "
            f"call {name}.eval()? work on a copy, or read the running statistics directly)")


def _fold(conv, bn):
    """Call the candidate; whatever comes back is judged by the check that asks for it."""
    mod = h.candidate(MODULE)
    call = _describe(conv, bn)
    folded = h.call(mod.fold_conv_bn, conv, bn)
    return folded, call


def _check_plain_conv(folded, conv, call):
    """A fresh, plain nn.Conv2d whose weight and bias are Parameters."""
    h.check(folded is not conv, f"{call} returned the conv it was given; return a new "
            "nn.Conv2d and leave the argument unchanged")
    h.check(type(folded) is nn.Conv2d,
            f"{call} returned {h.describe(folded)}; expected a plain nn.Conv2d (not a subclass)")
    h.check(isinstance(folded.weight, nn.Parameter),
            f"{call} returned a conv whose weight is {h.describe(folded.weight)}; expected an "
            "nn.Parameter")
    h.check(isinstance(folded.bias, nn.Parameter),
            f"{call} returned a conv whose bias is {h.describe(folded.bias)}; expected an "
            f"nn.Parameter of shape [{conv.out_channels}] (the folded conv always has a bias)")


def _check_values(conv, bn, x, reduction, rtol=None, atol_vs_max=None):
    """atol_vs_max: absolute tolerance as a fraction of max |expected| (float32: the fold
    rescales weights by up to 1/sqrt(var + eps), so rounding grows with the outputs)."""
    ref_conv, ref_bn = copy.deepcopy(conv).eval(), copy.deepcopy(bn).eval()
    with torch.no_grad():
        want = ref_bn(ref_conv(x.clone()))
    atol = None if atol_vs_max is None else max(1e-5, atol_vs_max * float(want.abs().max()))
    folded, call = _fold(conv, bn)
    h.check(callable(folded), f"{call} returned {h.describe(folded)}; expected an nn.Conv2d")
    with torch.no_grad():
        got = h.call(folded, x)
    h.assert_close(got, want, call=f"the conv returned by {call}, applied to {h.describe(x)},",
                   reduction=reduction, rtol=rtol, atol=atol,
                   expected_from="bn(conv(x)) with bn in eval mode")
    return folded, call


def _input(conv, n=2, extra=3, dtype=torch.float64):
    kh, kw = conv.kernel_size
    dh, dw = conv.dilation
    pad = conv.padding if isinstance(conv.padding, tuple) else (kh * dh, kw * dw)
    height = max(dh * (kh - 1) + 1, 2 * pad[0] + 1) + extra
    width = max(dw * (kw - 1) + 1, 2 * pad[1] + 1) + extra + 1
    return h.randn(n, conv.in_channels, height, width, dtype=dtype)


def _reduction(conv):
    kh, kw = conv.kernel_size
    return conv.in_channels // conv.groups * kh * kw


# ------------------------------------------------------------------------------- strategies

@st.composite
def fold_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    if draw(st.integers(0, 4)) == 0:                          # depthwise
        cin = cout = groups = draw(st.integers(1, 5))
    kernel = draw(st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    stride = draw(st.one_of(st.integers(1, 2), st.tuples(st.integers(1, 2), st.integers(1, 2))))
    padding = draw(st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)),
                             st.just("valid")))
    if stride == 1 and draw(st.booleans()):
        padding = "same"
    return dict(cin=cin, cout=cout, kernel=kernel, stride=stride, padding=padding,
                dilation=draw(st.integers(1, 2)), groups=groups,
                conv_bias=draw(st.booleans()),
                padding_mode=draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate",
                                                   "circular"])),
                affine=draw(st.booleans()), eps=draw(st.sampled_from([1e-5, 1e-3, 0.1])),
                conv_train=draw(st.booleans()), bn_train=draw(st.booleans()))


# ------------------------------------------------------------------------------------ checks

@pytest.mark.points(3)
@settings(max_examples=25, **FAST)
@given(case=fold_cases())
def test_matches_float64(case):
    """equals bn(conv(x)) in eval mode, float64 with a tight tolerance (property-based)"""
    conv, bn = _make(**case, dtype=torch.float64)
    _check_values(conv, bn, _input(conv), _reduction(conv))


@pytest.mark.parametrize("eps", [1e-5, 1e-3])
def test_matches_float32(eps):
    """equals bn(conv(x)) in eval mode, float32"""
    conv, bn = _make(dtype=torch.float32, eps=eps)
    _check_values(conv, bn, _input(conv, dtype=torch.float32), _reduction(conv),
                  rtol=1e-4, atol_vs_max=1e-5)


def test_conv_without_bias():
    """a conv without bias folds into a conv with the right bias"""
    conv, bn = _make(cin=3, cout=5, conv_bias=False)
    _check_values(conv, bn, _input(conv), _reduction(conv))


@pytest.mark.parametrize("conv_bias", [True, False], ids=["conv-bias", "no-conv-bias"])
def test_conv_bias_is_folded(conv_bias):
    """the conv's own bias goes through the BatchNorm too"""
    conv, bn = _make(cin=3, cout=4, kernel=1, padding=0, conv_bias=conv_bias)
    with torch.no_grad():
        if conv_bias:
            conv.bias.mul_(10)                           # a large bias: forgetting it shows
    _check_values(conv, bn, _input(conv), _reduction(conv))


@pytest.mark.parametrize("affine", [True, False], ids=["affine", "non-affine"])
def test_affine(affine):
    """uses bn.weight and bn.bias when affine, and works without them"""
    conv, bn = _make(cin=4, cout=4, affine=affine)
    _check_values(conv, bn, _input(conv), _reduction(conv))


@pytest.mark.parametrize("eps", [1e-5, 1e-3, 0.5])
def test_eps(eps):
    """uses bn.eps inside the square root (small running variances)"""
    conv, bn = _make(cin=3, cout=6, eps=eps)
    with torch.no_grad():
        bn.running_var.mul_(1e-2)                        # small variances: eps matters
    _check_values(conv, bn, _input(conv), _reduction(conv))


@pytest.mark.parametrize("groups,cin,cout", [(2, 4, 6), (3, 3, 3), (5, 5, 10)],
                         ids=["groups-2", "depthwise", "depthwise-multiplier-2"])
def test_groups(groups, cin, cout):
    """grouped and depthwise convs (weight scaled per output channel)"""
    conv, bn = _make(cin=cin, cout=cout, groups=groups)
    _check_values(conv, bn, _input(conv), _reduction(conv))


def test_square_channels_scaled_per_output():
    """the weight is scaled along its output-channel dimension (C_in == C_out)"""
    conv, bn = _make(cin=5, cout=5, kernel=3, padding=1)
    _check_values(conv, bn, _input(conv), _reduction(conv))


@pytest.mark.parametrize("conv_train,bn_train", [(True, True), (False, True), (True, False)])
def test_train_mode_inputs(conv_train, bn_train):
    """modules handed over in train mode are folded with the running statistics"""
    conv, bn = _make(cin=3, cout=4, conv_train=conv_train, bn_train=bn_train)
    _check_values(conv, bn, _input(conv), _reduction(conv))


CONFIGS = [
    dict(cin=4, cout=6, kernel=(3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
    dict(cin=3, cout=3, kernel=3, padding="same", dilation=2),
    dict(cin=2, cout=4, kernel=(2, 3), stride=3, padding="valid"),
    dict(cin=4, cout=6, kernel=3, groups=2),
    dict(cin=2, cout=2, kernel=3, padding=1, padding_mode="reflect"),
    dict(cin=2, cout=2, kernel=3, stride=2, padding=1, dtype=torch.float32),
]


@pytest.mark.parametrize("config", CONFIGS,
                         ids=["strided", "same", "valid", "groups", "padding-mode", "f32"])
def test_hyperparameters(config):
    """keeps channels, kernel, stride, padding, dilation, groups, padding mode and dtype"""
    conv, bn = _make(**config)
    folded, call = _fold(conv, bn)
    h.check(isinstance(folded, nn.Conv2d),
            f"{call} returned {h.describe(folded)}; expected an nn.Conv2d")
    for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
                 "groups", "padding_mode"):
        got, want = getattr(folded, name), getattr(conv, name)
        h.check(got == want, f"{call} returned a conv with {name}={got!r}; expected {want!r}, "
                "as in the input conv")
    for pname in ("weight", "bias"):
        p = getattr(folded, pname)
        want_shape = tuple(conv.weight.shape) if pname == "weight" else (conv.out_channels,)
        h.check(isinstance(p, torch.Tensor),
                f"{call} returned a conv whose {pname} is {h.describe(p)}; expected a tensor "
                f"of shape {list(want_shape)}")
        h.check(tuple(p.shape) == want_shape,
                f"{call} returned a conv whose {pname} has shape {list(p.shape)}; expected "
                f"{list(want_shape)}")
        h.check(p.dtype == conv.weight.dtype,
                f"{call} returned a conv whose {pname} has dtype {p.dtype}; expected "
                f"{conv.weight.dtype}, the input conv's dtype")
        h.check(p.device == conv.weight.device,
                f"{call} returned a conv whose {pname} is on {p.device}; expected "
                f"{conv.weight.device}")


@pytest.mark.parametrize("conv_bias", [True, False], ids=["conv-bias", "no-conv-bias"])
def test_returns_plain_conv_with_bias(conv_bias):
    """returns a new, plain nn.Conv2d with a bias"""
    conv, bn = _make(conv_bias=conv_bias)
    folded, call = _fold(conv, bn)
    _check_plain_conv(folded, conv, call)
    h.check(tuple(folded.bias.shape) == (conv.out_channels,),
            f"{call} returned a conv whose bias is {h.describe(folded.bias)}; expected shape "
            f"[{conv.out_channels}]")


@pytest.mark.parametrize("conv_train,bn_train,conv_bias", [(False, False, True),
                                                            (True, True, True),
                                                            (False, False, False)],
                         ids=["eval", "train", "no-conv-bias"])
def test_arguments_unchanged(conv_train, bn_train, conv_bias):
    """conv and bn are left unchanged (parameters, buffers, training flags)"""
    conv, bn = _make(conv_bias=conv_bias, conv_train=conv_train, bn_train=bn_train)
    before_conv, before_bn = _snapshot(conv), _snapshot(bn)
    mod = h.candidate(MODULE)
    call = _describe(conv, bn)
    h.call(mod.fold_conv_bn, conv, bn)         # whatever it returns, the arguments must survive
    _unchanged(conv, before_conv, "conv", call)
    _unchanged(bn, before_bn, "bn", call)


def test_parameters_not_shared():
    """the folded conv's parameters are its own: editing them leaves conv and bn alone"""
    conv, bn = _make()
    before_conv, before_bn = _snapshot(conv), _snapshot(bn)
    folded, call = _fold(conv, bn)
    h.check(isinstance(folded, nn.Conv2d) and isinstance(folded.weight, torch.Tensor)
            and isinstance(folded.bias, torch.Tensor),
            f"{call} returned {h.describe(folded)}; expected an nn.Conv2d with a weight and a "
            "bias")
    theirs = {t.data_ptr() for t in [*conv.parameters(), *bn.parameters(), *bn.buffers()]}
    for name in ("weight", "bias"):
        h.check(getattr(folded, name).data_ptr() not in theirs,
                f"{call} returned a conv whose {name} shares memory with the arguments; "
                "give the folded conv its own tensors")
    with torch.no_grad():
        folded.weight.add_(1.0)
        folded.bias.add_(1.0)
    _unchanged(conv, before_conv, "conv", f"editing the conv returned by {call}")
    _unchanged(bn, before_bn, "bn", f"editing the conv returned by {call}")
