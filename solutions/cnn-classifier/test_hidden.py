"""Hidden checks for cnn-classifier.

The candidate's model is trained once (module-level cache) with a fixed seed on the training
split, timed, and evaluated on the held-out split (500 images the candidate never sees). Both
splits come from solutions/cnn-classifier/data via h.hidden_data (the candidate's folder holds
only classifier.py while grading): the held-out file, and the full file from which the
training split is rebuilt.

Each check measures one thing. The architecture checks (convolutional, parameter budget)
judge a freshly built model, so they score even when training fails, and also the model
fit() returned when training succeeded (fit may return another model than it was given);
they come after the fit check in this file so that the trained model exists by then. The
accuracy checks measure accuracy only: an over-budget or non-convolutional model loses the
architecture point, not its accuracy points.
"""

import collections
import gzip
import io
import time

import numpy as np
import pytest
import torch
import torch.nn as nn
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from grader import harness as h

MODULE = "classifier"
TRAIN_SEED = 0
THREADS = 1
FIT_BUDGET_S = 60.0
PARAM_BUDGET = 50_000
_perf_counter = time.perf_counter        # captured before candidate code runs
_cache: dict = {}


def _rows(name):
    """(N, 65) int64 rows (64 pixels 0..16, then the label) of a hidden data file."""
    text = gzip.decompress(h.hidden_data(name)).decode("ascii")
    return np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64, ndmin=2)


def _training_rows(full, heldout):
    """The training split: the full file minus the held-out rows (as a multiset), in order.
    (Same as make_split.py; solutions/ cannot hold a byte-identical copy of a public file.)"""
    left = collections.Counter(map(tuple, heldout.tolist()))
    keep = []
    for row in full.tolist():
        if left[tuple(row)] > 0:
            left[tuple(row)] -= 1
        else:
            keep.append(row)
    return np.array(keep, dtype=np.int64)


def _data(split):
    """(images (N, 1, 8, 8) float32 in [0, 1], labels (N,) int64), fresh copies."""
    if split not in _cache:
        heldout = _rows("digits_heldout.csv.gz")
        rows = heldout if split == "heldout" else _training_rows(_rows("digits.csv.gz"), heldout)
        h.check(len(rows) == {"heldout": 500, "train": 1297}[split],
                f"grader data problem: the {split} split has {len(rows)} rows")
        images = torch.tensor(rows[:, :64].reshape(-1, 1, 8, 8) / 16.0, dtype=torch.float32)
        _cache[split] = (images, torch.tensor(rows[:, 64]))
    images, labels = _cache[split]
    return images.clone(), labels.clone()


def _build():
    mod = h.candidate(MODULE)
    model = h.call(mod.build_model)
    h.check(isinstance(model, nn.Module),
            f"build_model() returned {h.describe(model)}; expected an nn.Module")
    return model


def _trained():
    """(model, seconds): the candidate's model trained once on the training split."""
    if "trained" not in _cache:
        images, labels = _data("train")
        threads = torch.get_num_threads()
        torch.set_num_threads(THREADS)
        try:
            torch.manual_seed(TRAIN_SEED)
            model = _build()
            mod = h.candidate(MODULE)
            start = _perf_counter()
            trained = h.call(mod.fit, model, images, labels)
            seconds = _perf_counter() - start
        except h.CheckFailed as exc:
            _cache["trained"] = exc                    # every check that needs it fails alike
        else:
            _cache["trained"] = (trained, seconds)
        finally:
            torch.set_num_threads(threads)
    result = _cache["trained"]
    if isinstance(result, h.CheckFailed):
        raise h.CheckFailed(str(result))
    model, seconds = result
    h.check(isinstance(model, nn.Module),
            f"fit(model, images[1297, 1, 8, 8], labels[1297]) returned {h.describe(model)}; "
            "expected the trained nn.Module")
    return model, seconds


def _conv_layers_used(model, x):
    """Conv2d modules with a kernel larger than 1x1 whose forward ran on input x."""
    fired = []
    convs = [m for m in model.modules()
             if isinstance(m, nn.Conv2d) and tuple(m.kernel_size) != (1, 1)]
    hooks = [m.register_forward_hook(lambda mod, inp, out: fired.append(mod)) for m in convs]
    try:
        with torch.no_grad():
            h.call(model, x)
    finally:
        for hook in hooks:
            hook.remove()
    return convs, fired


def _check_convolutional(model, who):
    x, _ = _data("train")
    h.call(model.eval)                                 # candidate code: guarded
    convs, fired = _conv_layers_used(model, x[:8])
    h.check(convs, f"{who} contains no nn.Conv2d with a kernel larger than 1x1; this exercise "
                   "asks for a convolutional network")
    h.check(fired, f"{who} contains nn.Conv2d layers but its forward never calls them")


def _check_budget(model, who):
    count = sum(p.numel() for p in model.parameters())
    h.check(0 < count <= PARAM_BUDGET,
            f"{who} has {count:,} parameters; the budget is at most {PARAM_BUDGET:,}")


def _trained_if_any():
    """The model fit() returned, or None when training failed (the fit and accuracy checks
    report that failure; the architecture checks then judge build_model()'s model alone)."""
    try:
        model, _ = _trained()
    except h.Tampered:
        raise
    except h.CheckFailed:
        return None
    return model


def _accuracy():
    model, _ = _trained()
    images, labels = _data("heldout")
    h.call(model.eval)
    with torch.no_grad():
        logits = h.call(model, images)
    h.check(type(logits) is torch.Tensor and tuple(logits.shape) == (len(labels), 10),
            f"the trained model returned {h.describe(logits)} for the held-out images "
            f"[{len(labels)}, 1, 8, 8]; expected logits [{len(labels)}, 10]")
    correct = int((logits.argmax(dim=1) == labels).sum())
    return correct, len(labels)


# ------------------------------------------------------------------------------------ checks

@settings(max_examples=10, deadline=None, report_multiple_bugs=False,
          phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink))
@given(n=st.integers(1, 40), seed=st.integers(0, 1000))
def test_output_shape_and_dtype(n, seed):
    """build_model() maps (N, 1, 8, 8) images to (N, 10) float32 logits"""
    model = _build()
    h.call(model.eval)
    x = torch.rand(n, 1, 8, 8, generator=h.generator(seed))
    with torch.no_grad():
        out = h.call(model, x)
    h.check(type(out) is torch.Tensor,
            f"model(images[{n}, 1, 8, 8]) returned {h.describe(out)}; expected a plain tensor")
    h.check(tuple(out.shape) == (n, 10),
            f"model(images[{n}, 1, 8, 8]) returned {h.describe(out)}: shape {list(out.shape)}; "
            f"expected logits of shape [{n}, 10] (one row of 10 per image, also for N = 1)")
    h.check(out.dtype == torch.float32,
            f"model(images[{n}, 1, 8, 8]) returned {h.describe(out)}: dtype {out.dtype}; "
            "expected torch.float32 logits")
    h.check(bool(torch.isfinite(out).all()),
            f"model(images[{n}, 1, 8, 8]) returned non-finite logits")


def test_fit_within_time_budget():
    """fit() finishes within 60 s on one CPU thread"""
    _, seconds = _trained()
    if seconds <= FIT_BUDGET_S:
        h.note(f"fit() took {seconds:.1f} s.")
    h.check(seconds <= FIT_BUDGET_S,
            f"fit() on 1,297 images took {seconds:.1f} s on {THREADS} CPU thread; the budget "
            f"is {FIT_BUDGET_S:.0f} s (fewer epochs, a smaller model, or larger batches)")


def test_model_is_convolutional():
    """the model applies an nn.Conv2d (kernel > 1x1) in forward"""
    _check_convolutional(_build(), "the model build_model() returned")
    trained = _trained_if_any()
    if trained is not None:
        _check_convolutional(trained, "the model fit() returned")


def test_parameter_budget():
    """at most 50,000 parameters"""
    _check_budget(_build(), "the model build_model() returned")
    trained = _trained_if_any()
    if trained is not None:
        _check_budget(trained, "the model fit() returned")


def test_trained_model_predicts_in_eval_mode():
    """the trained model predicts in eval mode, deterministically, without autograd"""
    model, _ = _trained()
    images, _ = _data("heldout")
    x = images[:64]
    h.call(model.eval)
    with torch.inference_mode():
        first = h.call(model, x.clone())
        second = h.call(model, x.clone())
    # shape and dtype are test_output_shape_and_dtype's business: any two plain tensors can
    # be compared for determinism
    h.check(type(first) is torch.Tensor and type(second) is torch.Tensor,
            f"in eval mode under torch.inference_mode(), the trained model returned "
            f"{h.describe(first)} for images[64, 1, 8, 8]; expected a plain tensor of logits")
    h.check(first.shape == second.shape and torch.equal(first, second),
            "in eval mode the trained model gave different logits for the same images twice; "
            "inference must be deterministic (dropout and other randomness off in eval mode)")


@pytest.mark.points(3)
def test_heldout_accuracy_at_least_90_percent():
    """held-out accuracy >= 90%"""
    correct, total = _accuracy()
    if correct >= 0.90 * total:
        h.note(f"Held-out accuracy: {correct}/{total} = {correct / total:.1%}.")
    h.check(correct >= 0.90 * total,
            f"held-out accuracy {correct}/{total} = {correct / total:.1%}; at least 90% earns "
            "these points (after torch.manual_seed(0), build_model(), fit() on the 1,297 "
            "training images)")


@pytest.mark.points(2)
def test_heldout_accuracy_at_least_97_percent():
    """held-out accuracy >= 97%"""
    correct, total = _accuracy()
    if correct >= 0.97 * total:
        h.note(f"Held-out accuracy: {correct}/{total} = {correct / total:.1%}.")
    h.check(correct >= 0.97 * total,
            f"held-out accuracy {correct}/{total} = {correct / total:.1%}; at least 97% earns "
            "these points")
