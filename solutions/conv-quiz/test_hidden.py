"""Hidden checks for conv-quiz: one check per question, all or nothing.

Formats are read leniently (case, spaces, commas, order, list or string, int or string);
content is compared exactly. Every check notes the explanation, passed or failed.
"""

import re

import pytest

from grader import harness as h

MODULE = "quiz"

# kind "one": exactly one letter; "all": every right letter and no other; "number": an integer.
KEY = {
    "q1": dict(kind="one", options="abcd", answer="b", explanation=(
        "b. nn.Conv2d computes a cross-correlation: the kernel slides over the (padded) input "
        "without being flipped, and each output is the dot product of one k x k window, "
        "across all C_in input channels, with output channel o's filter, plus b[o]. A true "
        "convolution (a) flips the kernel; for learned weights that is only a relabelling, "
        "which is why deep-learning libraries skip it. (c) is a depthwise conv; (d) is no "
        "convolution at all.")),
    "q2": dict(kind="all", options="abcdef", answer="abde", explanation=(
        "a, b, d, e. One kernel is reused at every position (weight sharing) and each output "
        "sees only a local window (its receptive field): a conv is a fully-connected layer "
        "with a sparse, weight-tied matrix. The parameter count C_out*C_in*k*k (+ C_out) does "
        "not depend on H or W. Convolution is translation-equivariant (shift in, shift out), "
        "not invariant; approximate invariance comes from pooling or global averaging.")),
    "q3": dict(kind="number", answer=24, explanation=(
        "24. H_out = floor((H + 2p - d*(k - 1) - 1) / s) + 1 "
        "= floor((57 + 2 - 3*4 - 1) / 2) + 1 = floor(46 / 2) + 1 = 24. "
        "Forgetting the dilation gives 28.")),
    "q4": dict(kind="all", options="abcde", answer="abd", explanation=(
        "a, b, d. Stride s divides each output dimension by about s, so s*s fewer output "
        "positions and MACs. 'Same' padding for an odd k at stride 1 is (k - 1) / 2. Dilation "
        "spreads the k taps over d*(k - 1) + 1 pixels: a larger receptive field with the same "
        "k*k weights. Neither dilation nor padding adds parameters.")),
    "q5": dict(kind="number", answer=295168, explanation=(
        "295,168 = 256*128*3*3 weights + 256 biases = 294,912 + 256.")),
    "q6": dict(kind="number", answer=26593280, explanation=(
        "26,593,280. Depthwise: 128 channels * 9 taps * 784 pixels = 903,168; pointwise: "
        "256*128 * 784 pixels = 25,690,112. A standard 3 x 3 conv 128 -> 256 at 28 x 28 costs "
        "231,211,008, 8.7 times more. Counting the depthwise conv as a full 128 -> 256 conv "
        "gives 256,901,120.")),
    "q7": dict(kind="number", answer=34304, explanation=(
        "34,304. Depthwise: 128*3*3 weights + 128 biases = 1,280; pointwise: 256*128 weights "
        "+ 256 biases = 33,024. A standard 3 x 3 conv 128 -> 256 has 295,168.")),
    "q8": dict(kind="one", options="abcd", answer="b", explanation=(
        "b. The k x k x C_in x C_out kernel is factorised into a spatial filter per channel "
        "(C_in*k*k MACs per output pixel) and a 1 x 1 channel mixer (C_in*C_out), instead of "
        "C_in*C_out*k*k: a ratio of 1/C_out + 1/(k*k), close to 1/9 for 3 x 3 kernels and "
        "many channels. The price is expressiveness: space and channels are mixed in two "
        "restricted steps.")),
    "q9": dict(kind="number", answer=13, explanation=(
        "13. Track the receptive field r and the jump j (input pixels between neighbouring "
        "outputs): start r = 1, j = 1; 3 x 3 stride 1: r = 1 + 2*1 = 3; 3 x 3 stride 2: "
        "r = 3 + 2*1 = 5, then j = 2; 3 x 3 dilation 2 spans 5: r = 5 + (5 - 1)*2 = 13. "
        "Ignoring the dilation or the stride gives 9.")),
    "q10": dict(kind="all", options="abcde", answer="abc", explanation=(
        "a, b, c. Autocast runs convs and matmuls in float16/bfloat16 and keeps "
        "precision-sensitive ops in float32; weights and optimizer state stay float32 "
        "(master weights); GradScaler scales the loss, unscales the gradients before the step "
        "(and before clipping) and skips steps with inf/NaN gradients. bfloat16 has float32's "
        "8 exponent bits, so it rarely needs loss scaling at all. model.half() is not the AMP "
        "recipe: float16 weights lose small updates.")),
    "q11": dict(kind="all", options="abcdefgh", answer="abcegh", explanation=(
        "a, b, c, e, g, h. cudnn.benchmark autotunes the algorithm per input shape; "
        "channels_last and float16/bfloat16 feed tensor cores; im2col + GEMM, Winograd and FFT "
        "are how fast convolution libraries work; data parallelism across GPUs raises "
        "throughput; separable convs cut the MACs. cudnn.deterministic=True restricts cuDNN to "
        "deterministic, often slower, algorithms; synchronising after every layer only stalls "
        "the GPU's queue.")),
    "q12": dict(kind="all", options="abcde", answer="abc", explanation=(
        "a, b, c. The bias shifts each output channel; nonlinearities are what make depth "
        "useful (a composition of linear maps is linear); BatchNorm removes the per-channel "
        "mean, so a bias just before it is cancelled (use bias=False). Linear maps are "
        "differentiable too, so (d) is false; the bias has shape (C_out,), one value per "
        "output channel, so (e) is false.")),
}


# ------------------------------------------------------------------------------------ reading

_SEPARATORS = re.compile(r"[\s,;/&+()\[\]'\".]+")


def _letters(value, qid, options):
    """Set of option letters from "A C", "a,c", ["a", "c"], {"a", "c"}; or an error text."""
    if type(value) is str:
        parts = [value]
    elif type(value) in (list, tuple, set, frozenset):
        parts = list(value)
        if not all(type(p) is str for p in parts):
            return None, (f"{qid} should be letters; got a {type(value).__name__} holding "
                          f"{', '.join(sorted({type(p).__name__ for p in parts}))}")
    else:
        return None, (f"{qid} should be letters such as \"b\" or [\"a\", \"c\"]; "
                      f"got {h.describe(value)}")
    chosen = set()
    for part in parts:
        text = _SEPARATORS.sub("", re.sub(r"\band\b", " ", part.lower()))
        for ch in text:
            if ch not in options:
                return None, (f"{qid} has options {', '.join(options)}; your answer "
                              f"{h.safe_str(repr(value), 80)} contains {ch!r}")
            chosen.add(ch)
    if not chosen:
        return None, f"{qid}: your answer {h.safe_str(repr(value), 80)} chooses no option"
    return chosen, ""


def _number(value, qid):
    """An int from 24, 24.0, "24", " 26,593,280 ", "26_593_280"; or an error text."""
    if type(value) is int:
        return value, ""
    if type(value) is float:
        return value, ""          # compared as a number: 24.0 == 24, 24.5 != 24
    if type(value) is str:
        text = re.sub(r"[\s,_]", "", value)
        for convert in (int, float):
            try:
                return convert(text), ""
            except ValueError:
                pass
        return None, f"{qid} should be a number; {h.safe_str(repr(value), 80)} is not one"
    return None, f"{qid} should be a number such as 24 or \"24\"; got {h.describe(value)}"


def _answers():
    mod = h.candidate(MODULE)
    answers = mod.__dict__.get("ANSWERS")
    h.check(type(answers) is dict,
            f"quiz.py must define ANSWERS as a dict {{\"q1\": ..., ...}}; got "
            f"{h.describe(answers)}.")
    return answers


def _grade(qid):
    key = KEY[qid]
    h.note(f"Answer: {key['explanation']}")
    answers = _answers()
    # looked up by iterating: `qid in answers` would hash and compare the candidate's keys,
    # running their code outside h.call (a stray non-str key is simply not an answer)
    found = [v for k, v in answers.items() if type(k) is str and k == qid]
    h.check(found, f"ANSWERS has no entry {qid!r}.")
    value = found[0]
    h.check(value is not None, f"{qid} is unanswered (None).")
    if key["kind"] == "number":
        got, error = _number(value, qid)
        h.check(error == "", error + ".")
        h.check(got == key["answer"], f"{qid}: {h.safe_str(repr(value), 80)} is not the "
                "right figure.")
        return
    got, error = _letters(value, qid, key["options"])
    h.check(error == "", error + ".")
    if key["kind"] == "one":
        h.check(len(got) == 1, f"{qid} asks for one letter; your answer "
                f"{h.safe_str(repr(value), 80)} chooses {len(got)}.")
    shown = ", ".join(sorted(got))
    h.check(got == set(key["answer"]), f"{qid}: {shown} is not the right "
            + ("option." if key["kind"] == "one" else "set of options (all that apply)."))


# ------------------------------------------------------------------------------------ checks

def test_q1_cross_correlation():
    """q1: what nn.Conv2d computes"""
    _grade("q1")


@pytest.mark.points(2)
def test_q2_conv_properties():
    """q2: weight sharing, receptive field, equivariance"""
    _grade("q2")


@pytest.mark.points(2)
def test_q3_output_size():
    """q3: output size with stride, padding and dilation"""
    _grade("q3")


def test_q4_stride_padding_dilation():
    """q4: effects of stride, padding and dilation"""
    _grade("q4")


@pytest.mark.points(2)
def test_q5_parameter_count():
    """q5: parameter count of a standard conv"""
    _grade("q5")


@pytest.mark.points(3)
def test_q6_separable_macs():
    """q6: MACs of a depthwise-separable conv"""
    _grade("q6")


@pytest.mark.points(2)
def test_q7_separable_parameters():
    """q7: parameter count of a depthwise-separable conv"""
    _grade("q7")


def test_q8_why_separable_is_cheaper():
    """q8: why depthwise-separable is cheaper"""
    _grade("q8")


@pytest.mark.points(3)
def test_q9_receptive_field():
    """q9: receptive field of a stack of convs"""
    _grade("q9")


@pytest.mark.points(2)
def test_q10_mixed_precision():
    """q10: mixed-precision training"""
    _grade("q10")


@pytest.mark.points(2)
def test_q11_faster_convolution():
    """q11: making convolutions fast"""
    _grade("q11")


def test_q12_bias_and_activation():
    """q12: bias and activation"""
    _grade("q12")
