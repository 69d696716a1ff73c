"""A zeroed exercise reads as zeroed everywhere: the JSON (the engine's verdict), the HTML, JUnit
(a failing test case) and the leaderboard (HTML and CSV) — for every zeroing flag kind. The
renderers only read `zeroed`/`zeroed_by`; the rule itself is engine/scoring.py's."""

from __future__ import annotations

import copy
import csv
import io
import json
import shutil
import xml.etree.ElementTree as ET

import pytest

from grader.batch import summary_row
from grader.batch.leaderboard import render_leaderboard, to_csv
from grader.engine.scoring import ZEROING_FLAGS, score_exercise
from grader.report import render_html
from grader.report.junit import to_junit

from conftest import SUBS, TESTS, grade_json, invoke

TAMPERING = TESTS / "attacks" / "patch-comparisons" / "tiny.py"   # patches torch.allclose at import


def _zeroed_everywhere(result: dict, kind: str) -> None:
    ex = result["exercises"][0]
    assert ex["zeroed"] is True and kind in ex["zeroed_by"] and ex["score"] == 0.0
    page = render_html(result)
    assert f'data-zeroed-by="{" ".join(ex["zeroed_by"])}"' in page
    assert "zeroes this exercise" in page
    suites = ET.fromstring(to_junit(result))
    failing = [case.get("name") for case in suites.iter("testcase")
               if case.find("failure") is not None]
    assert f"flag: {kind} (exercise scored zero)" in failing
    row = dict(summary_row("mallory", result), status="graded", duration_s=0.0, html=None, json=None)
    columns = [{"slug": ex["slug"], "title": ex["title"], "max_score": ex["max_score"]}]
    assert row["exercises"][ex["slug"]]["zeroed"] is True and row["zeroing_flags"] >= 1
    board = render_leaderboard([row], columns, {"created": "now", "version": "0", "candidates": 1,
                                                "device": "cpu", "timing": False, "graded": 1,
                                                "problems": 0})
    assert 'title="zeroed by a flag">⚑' in board
    table = list(csv.DictReader(io.StringIO(to_csv([row], columns))))
    assert int(table[0]["zeroing_flags"]) >= 1


@pytest.fixture(scope="module")
def honest(tmp_path_factory):
    """A real result with every check passed, graded once for the module."""
    import os
    os.environ["TORCHDRILL_ROOT"] = str(TESTS / "tiny_catalogue")
    try:
        return grade_json(SUBS / "full", tmp_path_factory.mktemp("honest"))
    finally:
        os.environ.pop("TORCHDRILL_ROOT", None)


@pytest.mark.parametrize("kind", sorted(ZEROING_FLAGS))
def test_each_zeroing_flag_kind_reads_as_zeroed_everywhere(honest, kind):
    result = copy.deepcopy(honest)
    ex = result["exercises"][0]
    assert ex["score"] == ex["max_score"] and not ex["zeroed"]
    ex["flags"].append({"kind": kind, "detail": f"a {kind} flag at tiny.py:3"})
    score_exercise(ex)                      # the engine's rule, applied as grading does
    result["score"] = ex["score"]
    _zeroed_everywhere(result, kind)


def test_a_flag_that_does_not_zero_leaves_the_score(honest):
    result = copy.deepcopy(honest)
    ex = result["exercises"][0]
    ex["flags"].append({"kind": "file-access", "detail": "open at tiny.py:3"})
    score_exercise(ex)
    assert ex["zeroed"] is False and ex["zeroed_by"] == [] and ex["score"] == ex["max_score"]


def test_tampering_at_import_is_zeroed_in_json_html_junit_and_leaderboard(fixture_root, tmp_path):
    """End to end: a submission that patches torch.allclose (and friends) at import."""
    sub = tmp_path / "sub" / "tiny"
    sub.mkdir(parents=True)
    shutil.copyfile(TAMPERING, sub / "tiny.py")
    result = grade_json(sub.parent, tmp_path, "--junit", tmp_path / "j.xml", "--html", tmp_path / "r.html")
    _zeroed_everywhere(result, "tampering")
    assert ET.parse(tmp_path / "j.xml").getroot().get("failures") != "0"
    subs = tmp_path / "subs"
    shutil.copytree(sub.parent, subs / "mallory")
    res = invoke("grade-many", subs, "--out", tmp_path / "out", "--no-timing", "-j", "1")
    assert res.exit_code == 0, res.output
    saved = json.loads((tmp_path / "out" / "mallory.json").read_text())
    assert saved["exercises"][0]["zeroed_by"] == ["tampering"]
    assert 'title="zeroed by a flag">⚑' in (tmp_path / "out" / "leaderboard.html").read_text()


def test_speed_message_speaks_in_slowdowns_and_names_the_next_tier():
    """The prompt's tiers are slowdowns ("within 3x of PyTorch"): so is the speed check's message."""
    from grader.engine.scoring import speed_message, speed_share
    tiers = ((3.0, 1.0), (6.0, 0.5), (15.0, 0.25))
    rows = [{"case": "resnet", "candidate_ms": 4.0, "reference_ms": 1.0},
            {"case": "depthwise", "candidate_ms": 4.0, "reference_ms": 1.0}]
    share = speed_share(rows, tiers)
    assert share == 0.5
    text = speed_message(rows, tiers, share)
    assert text == ("4.00x PyTorch's time (geometric mean of the cases: resnet 4.00x, depthwise "
                    "4.00x): within the 6.00x tier, 50% of the speed points; 100% needs within 3.00x")
    fast = [{"case": "one", "candidate_ms": 1.0, "reference_ms": 1.0}]
    assert speed_message(fast, tiers, 1.0).endswith("within the 3.00x tier, 100% of the speed points")
    slow = [{"case": "one", "candidate_ms": 40.0, "reference_ms": 1.0}]
    assert "slower than the last tier (within 15x), 0% of the speed points" in speed_message(slow, tiers, 0.0)
    assert speed_message([{"case": "x", "error": "boom"}], tiers, 0.0) == "earned 0% of the speed points"
