"""Shared fixtures for the grader's own tests.

`fixture_root` points TORCHDRILL_ROOT at tests/fixtures/root, a one-exercise catalogue
("tiny") that grades in about two seconds, so runner behaviour is tested without the real
exercises' cost.
"""

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli

TESTS = Path(__file__).parent
FIXTURE_ROOT = TESTS / "fixtures" / "root"
SUBS = TESTS / "fixtures" / "subs"
PROJECT = TESTS.parent


@pytest.fixture
def fixture_root(monkeypatch):
    monkeypatch.setenv("TORCHDRILL_ROOT", str(FIXTURE_ROOT))
    return FIXTURE_ROOT


@pytest.fixture
def real_root(monkeypatch):
    monkeypatch.delenv("TORCHDRILL_ROOT", raising=False)
    return PROJECT


def invoke(*args):
    """Run the CLI in-process, the way a user would call it."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def grade_json(sub, tmp_path, *extra):
    out = tmp_path / "result.json"
    res = invoke("grade", sub, "--json", out, "-j", "2", *extra)
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text())


def normalise(result: dict) -> dict:
    """Drop what varies between runs (time, paths, machine) for golden comparisons."""
    out = {k: v for k, v in result.items() if k not in ("created", "environment", "submission", "version")}
    out["exercises"] = []
    for ex in result["exercises"]:
        ex = {k: v for k, v in ex.items() if k not in ("duration_s", "sources")}
        ex["checks"] = [dict(c, message=c["message"].split(" (Falsifying")[0]) for c in ex["checks"]]
        out["exercises"].append(ex)
    return out
