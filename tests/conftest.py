"""Shared fixtures for the grader's own tests.

`fixture_root` points TORCHDRILL_ROOT at tests/tiny_catalogue, a one-exercise catalogue
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
FIXTURE_ROOT = TESTS / "tiny_catalogue"
SUBS = TESTS / "fixtures"        # one case a folder: the submission and its expected_result.json
PROJECT = TESTS.parent


@pytest.fixture(autouse=True)
def results_follow_the_schema(request):
    """Every result JSON a test writes under its tmp_path must follow grader/schema/result-1.json."""
    if "tmp_path" not in request.fixturenames:
        yield
        return
    tmp = request.getfixturevalue("tmp_path")   # now: so it is torn down after this check
    yield
    from grader.schema import validate_result
    for path in tmp.rglob("*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("tool") == "torchdrill" and "exercises" in data:
            problem = validate_result(data)
            assert problem == "", f"{path.name} does not follow the result schema: {problem}"


@pytest.fixture(autouse=True)
def practice_home(tmp_path_factory, monkeypatch):
    """Every test's practice history (grader/practice/history.py) lives in a fresh temporary
    TORCHDRILL_HOME: no test reads or writes the real user data folder."""
    home = tmp_path_factory.mktemp("torchdrill-home")
    monkeypatch.setenv("TORCHDRILL_HOME", str(home))
    return home


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


# What varies between runs (time, paths, machine), as a golden result holds it: still a valid
# result (grader/schema/result-1.json), so goldens are validated like every other result.
PLACEHOLDERS = {"created": "2000-01-01T00:00:00+00:00", "submission": "SUBMISSION", "version": "VERSION",
                "environment": {"python": "PYTHON", "torch": "TORCH", "device": "cpu",
                                "device_name": "DEVICE", "threads": 1}}


def normalise(result: dict) -> dict:
    """The result with what varies between runs replaced by placeholders (golden comparisons)."""
    out = dict(result, **PLACEHOLDERS)
    out["exercises"] = []
    for ex in result["exercises"]:
        ex = {k: v for k, v in ex.items() if k != "sources"}
        ex["duration_s"] = 0.0
        ex["checks"] = [dict(c, message=c["message"].split(" (Falsifying")[0]) for c in ex["checks"]]
        out["exercises"].append(ex)
    return out
