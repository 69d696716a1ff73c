"""The practice loop on the command line: the work folder's manifest, hints one at a time, the
history every check and grade writes, `progress`, `next`, and the score over what was gradable
here. On the one-exercise fixture catalogue (tests/tiny_catalogue), in-process."""

import json
import shutil
import sqlite3
import xml.etree.ElementTree as ET

import pytest

from grader.engine import scoring
from grader.practice.history import open_history
from grader.report import render_html

from conftest import FIXTURE_ROOT, invoke

SOLUTION = FIXTURE_ROOT / "solutions" / "tiny" / "tiny.py"


def one_line_error(res, needle=""):
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("torchdrill: error:"), res.output
    assert needle in lines[0] and "Traceback" not in res.output


@pytest.fixture
def work(fixture_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = invoke("start", "tiny", "--dir", "work")
    assert res.exit_code == 0, res.output
    return tmp_path / "work"


def test_start_writes_a_manifest_and_grade_grades_only_its_exercises(work):
    manifest = json.loads((work / ".torchdrill.json").read_text())
    assert manifest["exercises"] == ["tiny"] and manifest["manifest"] == "torchdrill workspace"
    shutil.copyfile(SOLUTION, work / "tiny" / "tiny.py")
    res = invoke("grade", "work", "--json", "r.json")
    assert res.exit_code == 0, res.output
    assert "Score: 1 exercise: 4.00 / 4.00 (100.0%)" in res.output
    assert "0 of 1 hints seen" in res.output
    result = json.loads((work.parent / "r.json").read_text())
    assert result["exercises"][0]["hints_seen"] == 0 and result["exercises"][0]["hints_total"] == 1
    assert "gradable_max_score" not in result         # nothing out of reach on this machine


def test_a_nonsense_manifest_is_one_line_and_exit_2(work):
    for text in ("{not json", '{"exercises": 3}', '{"exercises": []}', '["tiny"]',
                 '{"exercises": ["../etc"]}'):
        (work / ".torchdrill.json").write_text(text)
        one_line_error(invoke("grade", "work"), ".torchdrill.json")
        one_line_error(invoke("check", "--dir", "work"), ".torchdrill.json")
    (work / ".torchdrill.json").write_text('{"exercises": ["nope"]}')
    one_line_error(invoke("grade", "work"), "unknown exercise 'nope'")
    assert invoke("start", "tiny", "--dir", "work").exit_code == 0       # start repairs it
    assert json.loads((work / ".torchdrill.json").read_text())["exercises"] == ["tiny"]


def test_check_from_inside_the_work_folder_is_recorded(work, monkeypatch):
    shutil.copyfile(SOLUTION, work / "tiny" / "tiny.py")
    monkeypatch.chdir(work)
    res = invoke("check")
    assert res.exit_code == 0 and "1 of 1 exercise(s) pass" in res.output, res.output
    with open_history() as hist:
        runs = hist.runs(kind="check")
    assert [(r.slug, r.passed, r.workspace) for r in runs] == [("tiny", True, str(work.resolve()))]


def test_the_history_never_fails_a_command(work, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("TORCHDRILL_HOME", str(blocker))         # mkdir under a file fails
    res = invoke("check", "--dir", "work")
    assert res.exit_code == 1 and "warning: practice history not updated" in res.output
    assert "Traceback" not in res.output
    res = invoke("hint", "tiny")
    assert res.exit_code == 0 and "Hint 1 of 1" in res.output
    one_line_error(invoke("progress"), "cannot open the practice history")


def test_hints_one_at_a_time_then_all(fixture_root):
    res = invoke("hint", "tiny")
    assert res.exit_code == 0 and "Hint 1 of 1 for tiny:\nrelu(x) = max(x, 0)." in res.output
    assert "that was the last one" in res.output
    res = invoke("hint", "tiny")
    assert "All 1 hint for tiny already seen" in res.output
    assert "relu(x) = max(x, 0)." in invoke("hint", "tiny", "--all").output
    one_line_error(invoke("hint", "nope"), "unknown exercise 'nope'")


def test_progress_next_and_the_page(work, tmp_path):
    assert "new: tiny (easy)" in invoke("next").output
    shutil.copyfile(SOLUTION, work / "tiny" / "tiny.py")
    invoke("hint", "tiny")
    assert invoke("grade", "work").exit_code == 0
    res = invoke("progress", "--html", "progress.html")
    assert res.exit_code == 0, res.output
    assert "fixture" in res.output and "1 of 1 hints seen" in res.output
    row = next(line for line in res.output.splitlines() if line.strip().startswith("tiny "))
    assert "100%" in row
    root = ET.parse(tmp_path / "progress.html").getroot()     # well-formed: ET parses it
    assert "tiny" in ET.tostring(root, encoding="unicode")
    res = invoke("next")
    assert res.exit_code == 0 and res.output.startswith("Next: tiny") and "why:" in res.output


def test_a_corrupt_history_is_recreated_with_a_one_line_note(fixture_root, practice_home):
    (practice_home / "history.sqlite3").write_bytes(b"this is not sqlite" * 100)
    res = invoke("progress")
    assert res.exit_code == 0
    notes = [line for line in res.output.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "started a new history" in notes[0]
    assert sqlite3.connect(practice_home / "history.sqlite3").execute(
        "PRAGMA user_version").fetchone()[0] == 1


def test_a_kits_exercises_folder_gets_a_manifest_naming_the_kit(fixture_root, tmp_path):
    assert invoke("kit", tmp_path / "conv-kit").exit_code == 0
    folder = tmp_path / "conv-kit" / "exercises"
    invoke("check", "--dir", folder)
    manifest = json.loads((folder / ".torchdrill.json").read_text())
    assert manifest == {"manifest": "torchdrill workspace", "format": 1, "exercises": ["tiny"],
                        "kit": "conv-kit"}


def test_a_submission_without_a_manifest_grades_everything(fixture_root, tmp_path):
    (tmp_path / "sub").mkdir()
    res = invoke("grade", tmp_path / "sub")
    assert res.exit_code == 0 and "Score: 0.00 / 4.00 (0.0%)" in res.output   # today's line


# ----------------------------------------------------------------------- gradable here

def _speed_result(message: str) -> dict:
    from report_samples import sample_result
    result = sample_result()
    ex = result["exercises"][1]                        # conv2d: 12 points, 3 of them speed
    speed = next(c for c in ex["checks"] if c["id"] == "timing::speed")
    speed.update(outcome="skipped", message=message, points=3.0)
    ex["timings"] = []
    return result


@pytest.mark.parametrize("message, note", [
    ("not measured here: timing off (--no-timing)", "3 speed points not measured: timing off"),
    ("not measured here: needs a CUDA GPU (Triton kernels are timed on CUDA only)",
     "3 speed points need a CUDA GPU"),
])
def test_points_not_measured_here_are_not_held_against_anyone(message, note):
    result = _speed_result(message)
    scoring.set_gradable(result)
    conv = result["exercises"][1]
    assert conv["gradable_max_score"] == conv["max_score"] - 3
    assert result["gradable_max_score"] == result["max_score"] - 3
    assert "gradable_max_score" not in result["exercises"][0]
    assert scoring.not_measured_note(result) == note
    from grader.report import validate_result
    assert validate_result(result) == ""
    for audience in ("interviewer", "candidate"):
        html = render_html(result, audience)
        assert f"{conv['score']:g} / {conv['gradable_max_score']:g}" in html.replace(".00", "")
        assert note in html and "here" in html


def test_headline_over_what_was_gradable(capsys):
    from grader.cli.interviewer import _headline
    result = {"score": 7.0, "max_score": 10.0, "gradable_max_score": 7.0,
              "exercises": [{"max_score": 10.0, "checks": [
                  {"id": "timing::speed", "outcome": "skipped", "points": 3.0,
                   "message": "not measured here: needs a CUDA GPU (Triton ...)"}]}]}
    assert _headline(result, 1) == 100.0
    out = capsys.readouterr().out
    assert out.strip() == ("Score: 1 exercise: 7.00 / 7.00 here (100.0%), 10.00 in all; "
                           "3 speed points need a CUDA GPU")
