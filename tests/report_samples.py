"""A realistic result JSON (several exercises, timings, flags, code) for report tests, built
without grading anything, so HTML and browser tests stay fast."""

import copy

CONV2D_SRC = '''import torch
import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """(N, C, H, W) * (K, C/g, kh, kw) -> (N, K, P, Q)"""
    n, c, h, w = input.shape
    k, _, kh, kw = weight.shape
    cols = F.unfold(input, (kh, kw), dilation=dilation, padding=padding, stride=stride)
    out = weight.view(k, -1) @ cols                          # (N, K, P*Q)
    p = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    q = (w + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    out = out.view(n, k, p, q)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out
'''

FOLD_SRC = '''import torch
from torch import nn


def fold_conv_bn(conv, bn):
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size,
                      conv.stride, conv.padding, conv.dilation, conv.groups, bias=True)
    fused.weight.data = conv.weight * scale.view(-1, 1, 1, 1)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    fused.bias.data = (bias - bn.running_mean) * scale + bn.bias
    return torch.nn.functional.conv2d
'''


def _check(name, outcome, points, message="", cid=None):
    return {"id": cid or "test_hidden.py::test_" + name.replace(" ", "_"), "name": name,
            "outcome": outcome, "points": points, "message": message}


_BASE = {
    "schema": 1, "tool": "torchdrill", "version": "0.1.0", "created": "2025-01-01T12:00:00+00:00",
    "environment": {"python": "3.11.2", "torch": "2.3.0", "device": "cpu",
                    "device_name": "x86_64", "threads": 2},
    "submission": "/home/interviewer/candidates/alice", "audience": "interviewer",
    "score": 17.25, "max_score": 36.0,
    "exercises": [
        {"slug": "conv-output-shape", "title": "Output size of a convolution", "status": "graded",
         "score": 4.0, "max_score": 4.0, "duration_s": 1.8,
         "checks": [_check("integer arguments", "passed", 2.0),
                    _check("padding same and valid", "passed", 2.0)],
         "timings": [], "flags": [],
         "sources": {"shape.py": "def conv2d_output_shape(*a, **k):\n    return (1, 1)\n"}},
        {"slug": "conv2d", "title": "2-D convolution from scratch", "status": "graded",
         "score": 9.25, "max_score": 12.0, "duration_s": 14.2,
         "checks": [_check("basic case: output shape and values", "passed", 1.0),
                    _check("stride as int and pair", "passed", 1.0),
                    _check("padding same with even kernels", "failed", 1.0,
                           "conv2d(Tensor[2, 3, 8, 8] float32, Tensor[4, 3, 2, 2] float32, "
                           "padding='same') raised TypeError: unsupported operand type(s) for "
                           "+: 'int' and 'str' (conv2d.py:11)"),
                    _check("groups: channels split into independent slices", "failed", 1.0,
                           "conv2d(..., groups=2) returned shape (2, 4, 6, 6) with wrong values: "
                           "max abs error 3.1 at [0, 2, 0, 0]; expected F.conv2d's result"),
                    _check("gradients reach input, weight and bias", "passed", 2.0),
                    _check("dtype preserved", "passed", 1.0),
                    _check("speed against PyTorch", "passed", 4.0,
                           "earned 81% of the speed points", cid="timing::speed")],
         "timings": [{"case": "resnet-3x3", "device": "cpu", "candidate_ms": 9.1,
                      "reference_ms": 4.2, "speedup": 0.46, "gflops": 25.3, "runs": 40,
                      "iqr_ms": 0.3},
                     {"case": "mobilenet-depthwise", "device": "cpu", "candidate_ms": 2.0,
                      "reference_ms": 2.5, "speedup": 1.25, "gflops": 3.1, "runs": 120,
                      "iqr_ms": 0.05}],
         "flags": [], "sources": {"conv2d.py": CONV2D_SRC}},
        {"slug": "conv-bn-fold", "title": "Fold batch norm into the convolution",
         "status": "graded", "score": 0.0, "max_score": 8.0, "duration_s": 6.0,
         "checks": [_check("eval-mode equality", "passed", 4.0),
                    _check("arguments left unchanged", "passed", 4.0)],
         "timings": [],
         "flags": [{"kind": "forbidden-api", "detail": "torch.nn.functional.conv2d at fold.py:12"},
                   {"kind": "introspection", "detail": "sys.modules at fold.py:3"},
                   {"kind": "checks-error", "detail": "test_hidden.py line 40: secret detail"}],
         "sources": {"fold.py": FOLD_SRC}},
        {"slug": "separable-conv", "title": "Depthwise-separable convolution",
         "status": "timeout", "score": 0.0, "max_score": 8.0, "duration_s": 60.0,
         "checks": [_check("parameter count", "timeout", 4.0, "no result: time limit (60 s) exceeded"),
                    _check("forward equals two convolutions", "timeout", 4.0,
                           "no result: time limit (60 s) exceeded")],
         "timings": [], "flags": [], "sources": {"separable.py": "while True:\n    pass\n"}},
        {"slug": "amp-train-step", "title": "A mixed-precision training step", "status": "missing",
         "score": 0.0, "max_score": 4.0, "duration_s": 0.0,
         "checks": [_check("one scaled step", "failed", 4.0, "no submission for this exercise")],
         "timings": [], "flags": []},
    ],
}


def sample_result() -> dict:
    """The sample with the engine's verdict fields (zeroed, zeroed_by) filled in by its rule."""
    from grader.engine.scoring import zeroed_by
    result = copy.deepcopy(_BASE)
    for ex in result["exercises"]:
        ex["zeroed_by"] = zeroed_by(ex["flags"])
        ex["zeroed"] = bool(ex["zeroed_by"])
    return result


HIDDEN_NAMES = [c["name"] for ex in _BASE["exercises"] for c in ex["checks"]
                if not c["id"].startswith("timing::")]
# The candidate view names each check (its docstring's first line) but never shows its id.
HIDDEN_IDS = [c["id"] for ex in _BASE["exercises"] for c in ex["checks"]
              if not c["id"].startswith("timing::")]
# Checks of attempted exercises: a missing exercise collapses to one line in every report.
ATTEMPTED_NAMES = [c["name"] for ex in _BASE["exercises"] if ex["status"] != "missing"
                   for c in ex["checks"] if not c["id"].startswith("timing::")]


SLUGS = [("conv-output-shape", "Output size of a 2-D convolution", 5.0),
         ("conv-quiz", "Convolution concept quiz", 10.0),
         ("conv2d-fix", "Fix the broken nn.Conv2d wrapper", 6.0),
         ("conv-bn-fold", "Fold BatchNorm into the preceding convolution", 8.0),
         ("conv2d", "2-D convolution from scratch", 10.0),
         ("separable-conv", "Depthwise-separable convolution and its cost", 8.0),
         ("amp-train-step", "A mixed-precision training step", 8.0),
         ("cnn-classifier", "An MNIST-style classifier", 10.0),
         ("fast-conv2d", "Fast 2-D convolution", 10.0)]


def sample_rows() -> tuple[list[dict], list[dict]]:
    """Leaderboard rows (as batch.grade_one returns them) for nine exercises, and the columns."""
    exercises = [{"slug": s, "title": t, "max_score": m} for s, t, m in SLUGS]
    total = sum(m for _, _, m in SLUGS)
    people = [("alice", [1, 1, 1, 1, 0.9, 1, 0.5, 1, 0.8], 0, 1.4),
              ("bob", [1, 0.7, 1, 0.5, 0.6, 0, 0, 0.2, 0], 1, 0.55),
              ("<script>alert(1)</script>", [1, 1, 0, 0, 0, 0, 0, 0, 0], 0, None),
              ("=HYPERLINK(\"x\")", [0.4, 0, 0, 0, 0, 0, 0, 0, 0], 2, None)]
    rows = []
    for name, shares, zeroing, speed in people:
        cells = {s: {"score": round(m * f, 2), "max_score": m,
                     "status": "missing" if f == 0 and name.startswith("=") else "graded",
                     "zeroed": False} for (s, _, m), f in zip(SLUGS, shares)}
        if zeroing:
            cells["conv2d"]["zeroed"] = True
        score = round(sum(c["score"] for c in cells.values()), 2)
        rows.append({"candidate": name, "submission": f"/subs/{name}", "status": "graded",
                     "error": "", "score": score, "max_score": total,
                     "pct": round(100 * score / total, 3), "exercises": cells,
                     "flags": zeroing + 1, "zeroing_flags": zeroing, "speedup": speed,
                     "timed_cases": 0 if speed is None else 4, "duration_s": 41.5,
                     "json": f"{name}.json", "html": f"{name}.html"})
    rows.append({"candidate": "mallory", "submission": "/subs/mallory.zip", "status": "rejected",
                 "error": "zip member '../../etc/passwd' points outside the archive (..)",
                 "score": 0.0, "max_score": total, "pct": 0.0, "exercises": {}, "flags": 1,
                 "zeroing_flags": 0, "speedup": None, "timed_cases": 0, "duration_s": 0.1,
                 "json": None, "html": None})
    rows.sort(key=lambda r: -r["pct"])
    return rows, exercises
