"""Hidden checks for shared-weights: SiameseEncoder, whose two branches share one set of weights.

Oracle: the encoder written functionally (F.conv2d, relu, mean over H and W, F.linear) in
float64 from the candidate model's OWN `conv` and `proj` parameters, read at the moment of the
comparison. A model that copies its modules instead of sharing them computes the right values
when it is built (the copy starts equal), so the value checks pass it; what it gets wrong is
the sharing, and each sharing check probes one way the tie must hold: one set of parameters
counted, one copy in state_dict, gradients of both branches accumulated into the one weight,
an in-place change seen by both branches, and the tie surviving load_state_dict (copying and
assign=True), .to(torch.float64) / .double() (also with
torch.__future__.set_overwrite_module_params_on_conversion(True), where conversion makes new
Parameter objects) and copy.deepcopy.

Independent credit: every check builds SiameseEncoder(3, 8) (kernel 3, float32) with weights
drawn from the secret seed, except for what it is named for; values are judged by the value
checks, the sharing by the sharing checks (which compare against the model's own parameters,
so a wrong embedding formula does not fail them). contract.toml maps every README clause to its
check and wrong/ variant.
"""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader import harness as h

MODULE = "siamese"
F64 = torch.float64
KEYS = {"conv.weight", "conv.bias", "proj.weight", "proj.bias"}


# ------------------------------------------------------------------------------------ helpers

def build(in_channels=3, features=8, kernel_size=None, offset=0):
    """The candidate's model, its parameters initialised from the secret seed."""
    cls = h.candidate(MODULE).SiameseEncoder
    torch.manual_seed(h.seed() + offset)
    args = (in_channels, features) if kernel_size is None else (in_channels, features, kernel_size)
    m = h.call(cls, *args)
    call = h.last_call()
    h.check(isinstance(m, nn.Module), f"{call} returned {h.describe(m)}; expected an nn.Module")
    for name, kind in (("conv", nn.Conv2d), ("proj", nn.Linear)):
        sub = getattr(m, name, None)
        h.check(isinstance(sub, kind) and isinstance(getattr(sub, "weight", None), nn.Parameter)
                and isinstance(getattr(sub, "bias", None), nn.Parameter),
                f"{call}: model.{name} is {h.describe(sub)}; expected an nn.{kind.__name__} with "
                "a weight and a bias (the README names the shared modules conv and proj)")
    return m, call


def shared(m):
    """The four shared tensors, as float64 copies."""
    return [t.detach().to(F64).clone() for t in
            (m.conv.weight, m.conv.bias, m.proj.weight, m.proj.bias)]


def oracle(params, x, padding):
    w, b, pw, pb = params
    return F.linear(F.relu(F.conv2d(x.to(F64), w, b, padding=padding)).mean(dim=(2, 3)), pw, pb)


def inputs(n=4, c=3, size=6, dtype=torch.float32, offset=0):
    gen = h.generator(100 + offset)
    return (h.randn(n, c, size, size, dtype=dtype, gen=gen),
            h.randn(n, c, size + 1, size + 1, dtype=dtype, gen=gen)[..., :size, :size])


def run(m, a, b, what):
    """forward(a, b) -> (za, zb, dist), with a failure message when the shape is wrong."""
    out = h.call(m, a, b)
    call = f"{what}: model(a, b)"
    h.check(isinstance(out, (tuple, list)) and len(out) == 3,
            f"{call} returned {h.describe(out)}; expected a tuple (za, zb, distance)")
    return out, call


def check_branches(m, what, dtype=torch.float32, offset=0, kernel_size=3):
    """Both embeddings of forward(a, b) must be the functional encoder applied with the model's
    own conv and proj parameters, as they are now."""
    a, b = inputs(dtype=dtype, offset=offset)
    params = shared(m)
    (za, zb, _), call = run(m, a, b, what)
    for name, got, x in (("za (branch a)", za, a), ("zb (branch b)", zb, b)):
        want = oracle(params, x, kernel_size // 2).to(dtype)
        h.assert_close(got, want, call=call, what=name, reduction=kernel_size ** 2 * 8,
                       expected_from="the encoder computed from model.conv and model.proj")


def perturb(m, offset):
    """Change the shared parameters in place (as an optimizer step would)."""
    gen = h.generator(200 + offset)
    with torch.no_grad():
        for p in (m.conv.weight, m.conv.bias, m.proj.weight, m.proj.bias):
            p.add_(h.randn(*p.shape, dtype=p.dtype, gen=gen) * 0.5)


# ------------------------------------------------------------------------------------ values

def test_submodules():
    """model.conv and model.proj have the sizes the README gives"""
    m, call = build(5, 6)
    conv, proj = m.conv, m.proj
    got = (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
           conv.dilation, conv.groups, proj.in_features, proj.out_features)
    want = (5, 6, (3, 3), (1, 1), (1, 1), (1, 1), 1, 6, 6)
    h.check(got == want,
            f"{call}: conv and proj have (in, out, kernel, stride, padding, dilation, groups, "
            f"proj in, proj out) = {got}; expected {want}")


def test_embed():
    """embed(x) = proj(mean over H, W of relu(conv(x)))"""
    m, _ = build()
    a, _ = inputs()
    got = h.call(m.embed, a)
    want = oracle(shared(m), a, 1).float()
    h.assert_close(got, want, call="model.embed(x)", reduction=72,
                   expected_from="proj(relu(conv(x)).mean((2, 3)))")


def test_forward_embeddings():
    """forward(a, b) returns both embeddings, each the encoder applied to its input"""
    m, call = build()
    check_branches(m, call)


def test_forward_returns_tuple():
    """forward returns a tuple of three tensors: (N, features), (N, features), (N,)"""
    m, call = build()
    a, b = inputs()
    out = h.call(m, a, b)
    h.check(type(out) is tuple and len(out) == 3,
            f"{call}: model(a, b) returned {h.describe(out)}; expected a tuple (za, zb, distance)")
    shapes = [tuple(t.shape) if type(t) is torch.Tensor else None for t in out]
    h.check(shapes == [(4, 8), (4, 8), (4,)],
            f"{call}: model(a, b) returned tensors of shapes {shapes}; expected "
            "[(4, 8), (4, 8), (4,)]")


def test_distance():
    """the distance is the Euclidean norm of za - zb, one per pair"""
    m, call = build()
    a, b = inputs()
    (za, zb, dist), call = run(m, a, b, call)
    h.check(type(za) is torch.Tensor and type(zb) is torch.Tensor,
            f"{call} returned za = {h.describe(za)}, zb = {h.describe(zb)}; expected tensors")
    want = torch.linalg.vector_norm(za.detach().to(F64) - zb.detach().to(F64), dim=1).float()
    h.assert_close(dist, want, call=call, what="the distance", reduction=8,
                   expected_from="vector_norm(za - zb, dim=1) of the za and zb it returned")


@pytest.mark.parametrize("kernel_size", [1, 5])
def test_kernel_size(kernel_size):
    """another kernel size (padding kernel_size // 2)"""
    m, call = build(kernel_size=kernel_size)
    check_branches(m, call, kernel_size=kernel_size)


# ------------------------------------------------------------------------------------ sharing

def test_parameter_count():
    """the shared weights are counted once: sum(p.numel() for p in model.parameters())"""
    m, call = build(3, 8)
    got = sum(p.numel() for p in m.parameters())
    want = sum(p.numel() for p in (m.conv.weight, m.conv.bias, m.proj.weight, m.proj.bias))
    h.check(got == want,
            f"{call}: sum(p.numel() for p in model.parameters()) is {got}; one conv and one "
            f"linear layer have {want} (3*8*3*3 + 8 + 8*8 + 8): both branches must use the same "
            "Parameter objects, not copies")


def test_state_dict_keys():
    """state_dict holds one copy: exactly conv.weight, conv.bias, proj.weight, proj.bias"""
    m, call = build()
    keys = set(h.call(m.state_dict))
    h.check(keys == KEYS,
            f"{call}: model.state_dict() has the keys {sorted(keys)}; expected exactly "
            f"{sorted(KEYS)} (one copy of the shared weights)")


def test_gradients_accumulate():
    """backward through both branches accumulates both contributions in the one weight"""
    m, call = build()
    a, b = inputs()
    gen = h.generator(300)
    ga, gb = h.randn(4, 8, gen=gen), h.randn(4, 8, gen=gen)
    params = [p.requires_grad_() for p in shared(m)]
    (oracle(params, a, 1) * ga.to(F64)).sum().add((oracle(params, b, 1) * gb.to(F64)).sum()).backward()
    m.zero_grad()
    (za, zb, _), call = run(m, a, b, call)
    loss = (za * ga).sum() + (zb * gb).sum()
    h.call(loss.backward)
    for name, p, ref in zip(("conv.weight", "conv.bias", "proj.weight", "proj.bias"),
                            (m.conv.weight, m.conv.bias, m.proj.weight, m.proj.bias), params):
        h.assert_close(p.grad, ref.grad.float(), call=f"{call}, then ((za*ga).sum() + "
                       "(zb*gb).sum()).backward()", what=f"model.{name}.grad", reduction=200,
                       expected_from="the sum of both branches' gradients")


def test_update_reaches_both_branches():
    """an in-place change of the shared weights (an optimizer step) changes both branches"""
    m, call = build()
    perturb(m, 0)
    check_branches(m, f"{call}, then its conv and proj parameters changed in place")


def _state(m, offset):
    gen = h.generator(400 + offset)
    return {k: h.randn(*v.shape, gen=gen) * 0.3 for k, v in
            (("conv.weight", m.conv.weight), ("conv.bias", m.conv.bias),
             ("proj.weight", m.proj.weight), ("proj.bias", m.proj.bias))}


@pytest.mark.parametrize("assign", [False, True], ids=["copy", "assign"])
def test_load_state_dict(assign):
    """load_state_dict (copying, or assign=True) loads the one copy and keeps the branches tied"""
    m, call = build()
    state = _state(m, 0)
    h.call(m.load_state_dict, state, assign=assign)
    what = f"{call}, then model.load_state_dict(state{', assign=True' if assign else ''})"
    want = [v.to(F64) for v in state.values()]
    got = shared(m)
    h.check(all(torch.equal(g, w) for g, w in zip(got, want)),
            f"{what}: model.conv / model.proj do not hold the loaded values")
    check_branches(m, what)
    perturb(m, 1)
    check_branches(m, f"{what}, then its parameters changed in place")


CONVERSIONS = {
    "to-float64": lambda m: m.to(torch.float64),
    "double": lambda m: m.double(),
}


@pytest.mark.parametrize("overwrite", [False, True], ids=["default", "overwrite"])
@pytest.mark.parametrize("how", list(CONVERSIONS))
def test_conversion(how, overwrite):
    """.to(torch.float64) and .double() keep the branches tied, also in overwrite mode

    Overwrite mode: torch.__future__.set_overwrite_module_params_on_conversion(True), where
    conversion makes new Parameter objects."""
    m, call = build()
    what = f"{call}, then model{'.to(torch.float64)' if how == 'to-float64' else '.double()'}"
    if overwrite:
        what += " under torch.__future__.set_overwrite_module_params_on_conversion(True)"
    before = torch.__future__.get_overwrite_module_params_on_conversion()
    torch.__future__.set_overwrite_module_params_on_conversion(overwrite)
    try:
        out = h.call(CONVERSIONS[how], m)
    finally:
        torch.__future__.set_overwrite_module_params_on_conversion(before)
    h.check(out is m, f"{what} returned {h.describe(out)}; expected the model itself")
    h.check(all(p.dtype == F64 for p in m.parameters()),
            f"{what}: parameters {[str(p.dtype) for p in m.parameters()]}; expected float64")
    check_branches(m, what, dtype=F64)
    perturb(m, 2)
    check_branches(m, f"{what}, then its parameters changed in place", dtype=F64)


def test_deepcopy_keeps_tied():
    """copy.deepcopy gives an independent model whose own two branches are tied"""
    m, call = build()
    twin = h.call(copy.deepcopy, m)
    what = f"twin = copy.deepcopy({call})"
    h.check(type(twin) is type(m) and twin.conv is not m.conv and twin.conv.weight is not m.conv.weight,
            f"{what}: the copy shares modules or parameters with the original")
    original = shared(m)
    perturb(twin, 3)
    check_branches(twin, f"{what}, then twin's parameters changed in place")
    h.check(all(torch.equal(o, n) for o, n in zip(original, shared(m))),
            f"{what}: changing twin's parameters changed the original's")
    check_branches(m, f"{what}, then twin's parameters changed: the original")
