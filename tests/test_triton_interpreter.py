"""Triton kernels graded as they run on CPU (Triton's interpreter, TRITON_INTERPRET=1).

A kernel that calls @triton.jit library functions (tl.zeros_like, tl.cdiv) makes the
interpreter rebind triton.language builtins and never restore them; that is Triton's own code,
not tampering, and must cost nothing. The same change made by candidate code still zeroes."""

from __future__ import annotations

import json
from importlib.util import find_spec

import pytest

from conftest import PROJECT, invoke

pytestmark = pytest.mark.skipif(find_spec("triton") is None, reason="triton is not installed here")

REFERENCE = PROJECT / "solutions" / "triton-bias-relu" / "bias_relu.py"


def _grade(tmp_path, source: str) -> dict:
    folder = tmp_path / "sub" / "triton-bias-relu"
    folder.mkdir(parents=True)
    (folder / "bias_relu.py").write_text(source)
    out = tmp_path / "r.json"
    res = invoke("grade", tmp_path / "sub", "--exercise", "triton-bias-relu", "--no-timing",
                 "--device", "cpu", "--json", out)
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text())["exercises"][0]


def test_library_functions_of_triton_language_earn_full_marks(real_root, tmp_path):
    source = REFERENCE.read_text().replace(
        "    y = tl.maximum(x + b, 0.0)\n",
        "    s = x + b\n"
        "    y = tl.where(s > 0, s, tl.zeros_like(s))\n"
        "    y = tl.where(pid < tl.cdiv(n_elements, BLOCK_SIZE), y, y)\n")
    assert "tl.zeros_like" in source
    ex = _grade(tmp_path, source)
    failed = [(c["id"], c["message"][:200]) for c in ex["checks"]
              if c["outcome"] not in ("passed", "skipped")]
    assert failed == [] and not ex["zeroed"], (failed, ex["flags"])


def test_candidate_code_rebinding_triton_language_is_still_tampering(real_root, tmp_path):
    source = REFERENCE.read_text() + (
        "\n\ndef _patch():\n"
        "    tl.core.maximum = lambda *a, **k: None\n"
        "\n\n_orig = bias_relu\n\n\ndef bias_relu(x, bias):\n"
        "    _patch()\n"
        "    return _orig(x, bias)\n")
    ex = _grade(tmp_path, source)
    assert ex["zeroed"] and "tampering" in ex["zeroed_by"], ex["flags"]
