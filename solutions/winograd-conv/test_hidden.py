"""Hidden checks for `winograd`: Winograd F(2x2, 3x3) against torch.nn.functional.conv2d.

float64 results must match F.conv2d to rtol = atol = 1e-10 (Winograd F(2x2, 3x3) is exact
arithmetic on the stated matrices, so only rounding separates it from a direct convolution).
float32 results must stay within the worst-case rounding bound the README derives:
    |error| <= (C + 32) * eps32 * 81 * C * max|input| * max|weight|.
The helpers (winograd_transforms, transform_filter, transform_input) are checked on their own;
the two test_output_from_* checks replace one helper in the candidate's module by a stand-in
that returns the correct transform plus a known symmetric 4x4 offset E, and require the output
to move exactly as Y = A^T [sum_c U ⊙ V] A says it must: a direct convolution dressed up as
Winograd cannot follow (it never uses U or V).

Independent credit: a check varies only the property it names; defaults: float64, N=2, C=3,
K=4, even output size, no padding. solutions/winograd-conv/contract.toml maps every README
clause to its check and to the wrong/ variant that violates only it.
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from grader import harness as h
from grader.sandbox import opaque

MODULE = "winograd"
F64 = torch.float64
HYPOTHESIS = dict(deadline=None, database=None, print_blob=False, report_multiple_bugs=False,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
TIGHT = dict(rtol=1e-10, atol=1e-10)
REF = "torch.nn.functional.conv2d"
BT = torch.tensor([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=F64)
G = torch.tensor([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=F64)
AT = torch.tensor([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=F64)


# ------------------------------------------------------------------------------------ helpers

def _oracle(x, w, padding=0):
    with torch.no_grad():
        return F.conv2d(x.detach().to(F64), w.detach().to(F64), padding=padding).to(x.dtype)


def float32_bound(x, w):
    """The README's worst-case float32 rounding bound for every output element."""
    c = w.shape[1]
    return ((c + 32) * torch.finfo(torch.float32).eps * 81 * c
            * float(x.detach().abs().max()) * float(w.detach().abs().max()))


def check_conv(x, w, padding=None, case=""):
    """Call winograd_conv2d(x, w[, padding=...]) and compare with F.conv2d: float64 tightly,
    float32 within the stated bound."""
    fn = h.candidate(MODULE).winograd_conv2d
    kw = {} if padding is None else {"padding": padding}
    expected = _oracle(x, w, padding or 0)
    got = h.call(fn, x, w, **kw)
    call = h.labelled(h.last_call(), case)
    if x.dtype == F64:
        h.assert_close(got, expected, call=call, expected_from=REF, **TIGHT)
    else:
        h.assert_close(got, expected, call=call, expected_from=REF, rtol=0.0,
                       atol=float32_bound(x, w))
    return got


def _tiles(x):
    """(N, C, th, tw, 4, 4) tiles of an (already padded) input, zero-padded to whole tiles."""
    ho, wo = x.shape[2] - 2, x.shape[3] - 2
    th, tw = (ho + 1) // 2, (wo + 1) // 2
    x = F.pad(x, (0, 2 * tw - wo, 0, 2 * th - ho))
    return x.unfold(2, 4, 2).unfold(3, 4, 2)


def _untile(y, ho, wo):
    n, k, th, tw = y.shape[:4]
    return y.permute(0, 1, 2, 4, 3, 5).reshape(n, k, 2 * th, 2 * tw)[:, :, :ho, :wo]


def _same(got, plain):
    """Whether got is the plain convolution (the stand-in's offset had no effect)."""
    return (type(got) is torch.Tensor and got.shape == plain.shape and got.dtype == plain.dtype
            and bool(torch.isclose(got.detach(), plain, rtol=1e-10, atol=1e-10).all()))


def _symmetric(gen):
    r = h.randn(4, 4, dtype=F64, gen=gen)
    return r + r.T


def _with_stand_ins(filter_offset, input_offset, x, w):
    """Run the candidate's winograd_conv2d with transform_filter and transform_input replaced by
    stand-ins returning the exact transforms plus offset(argument) (None: no offset)."""
    mod = h.candidate(MODULE)

    def filter_stand_in(weight):
        out = G.to(weight.dtype) @ weight @ G.T.to(weight.dtype)
        return out if filter_offset is None else out + filter_offset(weight)

    def input_stand_in(tiles):
        out = BT.to(tiles.dtype) @ tiles @ BT.T.to(tiles.dtype)
        return out if input_offset is None else out + input_offset(tiles)

    originals = (getattr(mod, "transform_filter", None), getattr(mod, "transform_input", None))
    h.check(all(callable(f) for f in originals),
            "winograd.py must define transform_filter and transform_input (see README.md)")
    mod.transform_filter, mod.transform_input = opaque(filter_stand_in), opaque(input_stand_in)
    try:
        got = h.call(mod.winograd_conv2d, x, w)
        call = h.last_call()
    finally:
        mod.transform_filter, mod.transform_input = originals
    return got, call


# ------------------------------------------------------------------------------------- checks

def test_transforms():
    """winograd_transforms() returns B^T (4x4), G (4x3) and A^T (2x4) exactly as stated"""
    fn = h.candidate(MODULE).winograd_transforms
    got = h.call(fn)
    call = h.last_call()
    h.check(isinstance(got, tuple) and len(got) == 3,
            f"{call} returned {h.describe(got)}; expected a tuple (B^T, G, A^T)")
    for name, mat, want in zip(("B^T", "G", "A^T"), got, (BT, G, AT)):
        h.check(type(mat) is torch.Tensor and mat.dtype.is_floating_point,
                f"{call} returned {h.describe(mat)} for {name}; expected a floating tensor")
        h.assert_close(mat.to(F64) if mat.dtype.is_floating_point else mat, want, call=call,
                       what=f"{name} (compared in float64)", rtol=0.0, atol=0.0,
                       expected_from="the README's F(2x2, 3x3) matrices")


def test_transform_filter():
    """transform_filter: (K, C, 3, 3) -> (K, C, 4, 4) = G g G^T, dtype kept"""
    fn = h.candidate(MODULE).transform_filter
    for shape, dtype in [((4, 3, 3, 3), F64), ((1, 1, 3, 3), F64), ((2, 5, 3, 3), torch.float32)]:
        w = h.randn(*shape, dtype=dtype)
        want = (G @ w.to(F64) @ G.T).to(dtype)
        got = h.call(fn, w)
        h.assert_close(got, want, call=h.last_call(), expected_from="G g G^T",
                       **(TIGHT if dtype == F64 else {}))


def test_transform_input():
    """transform_input: (..., 4, 4) tiles -> B^T d B for every tile, dtype kept"""
    fn = h.candidate(MODULE).transform_input
    for shape, dtype in [((2, 3, 2, 2, 4, 4), F64), ((5, 4, 4), F64), ((4, 4), F64),
                         ((2, 3, 1, 3, 4, 4), torch.float32)]:
        d = h.randn(*shape, dtype=dtype)
        want = (BT @ d.to(F64) @ BT.T).to(dtype)
        got = h.call(fn, d)
        h.assert_close(got, want, call=h.last_call(), expected_from="B^T d B",
                       **(TIGHT if dtype == F64 else {}))


def test_basic():
    """basic case: even output size, float64, matches F.conv2d to 1e-10"""
    check_conv(h.randn(2, 3, 6, 6, dtype=F64), h.randn(4, 3, 3, 3, dtype=F64))
    check_conv(h.randn(2, 3, 10, 8, dtype=F64), h.randn(4, 3, 3, 3, dtype=F64))


def test_odd_output():
    """odd output sizes: the last tile row / column is zero-padded and cropped"""
    for hh, ww in [(7, 7), (7, 6), (6, 9), (3, 3), (3, 8), (5, 4)]:
        check_conv(h.randn(2, 3, hh, ww, dtype=F64), h.randn(4, 3, 3, 3, dtype=F64),
                   case=f"{hh}x{ww} input, output {hh - 2}x{ww - 2}")


def test_padding():
    """padding (an int): zeros around the image before tiling (even output sizes)"""
    for size, padding in [(6, 1), (4, 1), (4, 2), (2, 1), (6, 2), (8, 0)]:
        check_conv(h.randn(2, 3, size, size, dtype=F64), h.randn(4, 3, 3, 3, dtype=F64),
                   padding=padding, case=f"{size}x{size} input, padding {padding}")


def test_channels():
    """C input channels summed, K output channels (one filter bank each)"""
    for c, k in [(1, 1), (1, 5), (6, 2), (8, 8)]:
        check_conv(h.randn(2, c, 6, 6, dtype=F64), h.randn(k, c, 3, 3, dtype=F64),
                   case=f"C={c}, K={k}")


def test_batches():
    """batches: every image is convolved independently"""
    for n in (1, 3, 5):
        check_conv(h.randn(n, 3, 6, 6, dtype=F64), h.randn(4, 3, 3, 3, dtype=F64),
                   case=f"batch of {n}")


def test_float32_error_bound():
    """float32 in, float32 out, within the README's rounding bound (even output sizes)"""
    check_conv(h.randn(2, 3, 6, 6), h.randn(4, 3, 3, 3), case="float32")
    check_conv(h.randn(2, 16, 8, 8) * 100, h.randn(4, 16, 3, 3), case="float32, C=16, |x|~100")
    check_conv(h.randn(1, 64, 6, 8), h.randn(8, 64, 3, 3) * 0.01, case="float32, C=64")


def test_non_contiguous():
    """non-contiguous input and weight (transposed, sliced, channels-last, permuted)"""
    w = h.randn(4, 3, 3, 3, dtype=F64)
    check_conv(h.randn(2, 3, 8, 8, dtype=F64).transpose(2, 3), w, case="transposed input")
    check_conv(h.randn(2, 6, 8, 8, dtype=F64)[:, ::2], w, case="input sliced along channels")
    check_conv(h.randn(2, 8, 8, 3, dtype=F64).permute(0, 3, 1, 2), w, case="channels-last input")
    check_conv(h.randn(2, 3, 8, 8, dtype=F64), h.randn(3, 3, 4, 3, dtype=F64).permute(2, 3, 0, 1),
               case="permuted weight")


def test_inputs_unchanged():
    """arguments left unchanged"""
    fn = h.candidate(MODULE).winograd_conv2d
    for layout in ("contiguous", "channels_last"):
        x, w = h.randn(2, 3, 8, 8, dtype=F64), h.randn(4, 3, 3, 3, dtype=F64)
        if layout == "channels_last":
            x, w = (t.contiguous(memory_format=torch.channels_last) for t in (x, w))
        saved = [(t.clone(), t.stride()) for t in (x, w)]
        h.call(fn, x, w)
        call = h.labelled(h.last_call(), f"{layout.replace('_', '-')} input and weight")
        for name, (before, stride), after in zip(["input", "weight"], saved, (x, w)):
            h.assert_unchanged(before, after, name, call=call)
            h.check(after.stride() == stride,
                    f"{call} changed the strides of its argument '{name}'; arguments must be"
                    " left unchanged")


def _check_filter_offset(x, w, seed):
    """winograd_conv2d under a transform_filter that returns G g G^T + E (E symmetric 4x4):
    every tile's output moves by A^T [sum_c E ⊙ V] A."""
    e = _symmetric(h.generator(seed))
    got, call = _with_stand_ins(lambda t: e.to(t.dtype), None, x, w)
    ho, wo = x.shape[2] - 2, x.shape[3] - 2
    v = BT @ _tiles(x) @ BT.T                                  # (N, C, th, tw, 4, 4)
    shift = AT @ (e * v).sum(1, keepdim=True) @ AT.T          # (N, 1, th, tw, 2, 2)
    expected = _oracle(x, w) + _untile(shift, ho, wo)
    h.check(not _same(got, _oracle(x, w)),
            f"{call} ignored what transform_filter returned: with transform_filter replaced"
            " by one that adds a 4x4 offset to every U, the output did not change; compute"
            " the output from U = transform_filter(weight) (called by that name)")
    h.assert_close(got, expected, call=call, expected_from="A^T [sum_c (U + E) ⊙ V] A with"
                   " transform_filter returning U + E for a known 4x4 offset E", **TIGHT)


def test_output_from_transform_filter():
    """the output is A^T [sum_c U ⊙ V] A with U = transform_filter(weight)"""
    _check_filter_offset(h.randn(2, 3, 8, 8, dtype=F64), h.randn(4, 3, 3, 3, dtype=F64), 7)
    _check_filter_offset(h.randn(1, 2, 6, 10, dtype=F64), h.randn(3, 2, 3, 3, dtype=F64), 9)
    _check_filter_offset(h.randn(1, 2, 4, 6, dtype=F64), h.randn(3, 2, 3, 3, dtype=F64), 12)


def test_odd_tiles_zero_filled():
    """odd output sizes: the last tiles are filled with zeros past the image (seen through V)"""
    for xs, ws, seed in [((2, 3, 7, 8), (4, 3, 3, 3), 10), ((1, 2, 6, 5), (3, 2, 3, 3), 11)]:
        x, w = h.randn(*xs, dtype=F64), h.randn(*ws, dtype=F64)
        e = _symmetric(h.generator(seed))
        # transform_input returns B^T d B + d[3, 3] * E: the offset carries each tile's
        # bottom-right pixel, which lies past the image in the last tiles of an odd size
        got, call = _with_stand_ins(None, lambda t: e.to(t.dtype) * t[..., 3:, 3:], x, w)
        d33 = _tiles(x)[..., 3, 3]                                 # (N, C, th, tw)
        m = torch.einsum("ncab,kcij->nkabij", d33, (G @ w @ G.T) * e)
        expected = _oracle(x, w) + _untile(AT @ m @ AT.T, xs[2] - 2, xs[3] - 2)
        h.assert_close(got, expected, call=call, expected_from="A^T [sum_c U ⊙ V'] A with"
                       " transform_input returning V' = B^T d B + d[3, 3] * E for a known 4x4 E,"
                       " and the tiles past the image filled with zeros", **TIGHT)


def test_output_from_transform_input():
    """the output is A^T [sum_c U ⊙ V] A with V = transform_input(tiles)"""
    x, w = h.randn(2, 3, 8, 10, dtype=F64), h.randn(4, 3, 3, 3, dtype=F64)
    e = _symmetric(h.generator(8))
    got, call = _with_stand_ins(None, lambda t: e.to(t.dtype), x, w)
    u = G @ w @ G.T                                            # (K, C, 4, 4)
    shift = AT @ (u * e).sum(1) @ AT.T                         # (K, 2, 2), the same every tile
    expected = _oracle(x, w) + shift.repeat(1, 3, 4)[None]
    h.check(not _same(got, _oracle(x, w)),
            f"{call} ignored what transform_input returned: with transform_input replaced"
            " by one that adds a 4x4 offset to every V, the output did not change; compute"
            " the output from V = transform_input(tiles) (called by that name)")
    h.assert_close(got, expected, call=call, expected_from="A^T [sum_c U ⊙ (V + E)] A with"
                   " transform_input returning V + E for a known 4x4 offset E", **TIGHT)


@pytest.mark.points(2)
@settings(max_examples=25, **HYPOTHESIS)
@given(n=st.integers(1, 3), c=st.integers(1, 4), k=st.integers(1, 4),
       padding=st.integers(0, 2), extra_h=st.integers(0, 6), extra_w=st.integers(0, 6),
       float32=st.booleans(), seed=st.integers(0, 2**20))
def test_random(n, c, k, padding, extra_h, extra_w, float32, seed):
    """random N, C, K, sizes (odd and even) and padding, float64 and float32"""
    gen = h.generator(seed)
    dtype = torch.float32 if float32 else F64
    hh, ww = max(1, 3 - 2 * padding) + extra_h, max(1, 3 - 2 * padding) + extra_w
    x, w = h.randn(n, c, hh, ww, dtype=dtype, gen=gen), h.randn(k, c, 3, 3, dtype=dtype, gen=gen)
    check_conv(x, w, padding=padding)
