"""The practice history (SQLite) and one-at-a-time hints, with a fixed clock."""

import sqlite3
import sys
from datetime import datetime, timedelta, timezone

import pytest

from grader.practice import history as history_mod
from grader.practice.hints import format_all_hints, format_hint, next_hint
from grader.practice.history import default_history_path, open_history

NOW = datetime(2024, 5, 10, 12, 0, 0, tzinfo=timezone.utc)


# --- helpers ----------------------------------------------------------------------------------


def exercise(slug, outcomes, status="graded", points=1.0):
    """One exercise of a schema-1 result; outcomes maps check name -> outcome."""
    checks = [{"id": f"test_hidden.py::test_{i}", "name": name, "outcome": outcome,
               "points": points, "message": ""} for i, (name, outcome) in enumerate(outcomes.items())]
    score = sum(points for c in checks if c["outcome"] == "passed")
    return {"slug": slug, "title": slug.title(), "status": status, "score": score,
            "max_score": points * len(checks), "checks": checks, "flags": [], "timings": []}


def result(*exercises):
    return {"schema": 1, "tool": "torchdrill", "exercises": list(exercises),
            "score": sum(e["score"] for e in exercises),
            "max_score": sum(e["max_score"] for e in exercises)}


@pytest.fixture
def hist(tmp_path):
    h = open_history(tmp_path / "history.sqlite3")
    yield h
    h.close()


# --- recording --------------------------------------------------------------------------------


def test_record_grade_keeps_one_run_per_attempted_exercise(hist, tmp_path):
    res = result(
        exercise("conv2d", {"stride": "passed", "padding": "passed", "groups": "failed",
                            "dilation": "error"}),
        exercise("separable-conv", {"a": "failed"}, status="missing"),
        exercise("triton-bias-relu", {"k": "skipped"}),     # requirement not installed
    )
    ids = hist.record_grade(res, str(tmp_path / "work"), now=NOW)
    assert len(ids) == 1
    [run] = hist.runs()
    assert (run.kind, run.slug, run.score, run.max_score, run.passed) == \
        ("grade", "conv2d", 2.0, 4.0, False)
    assert run.time == NOW
    assert run.workspace == str((tmp_path / "work").resolve())
    assert [(c.name, c.outcome) for c in run.checks] == [
        ("stride", "passed"), ("padding", "passed"), ("groups", "failed"), ("dilation", "error")]
    assert run.checks[0].check_id == "test_hidden.py::test_0"


def test_full_score_is_passed_and_checks_are_recorded(hist, tmp_path):
    hist.record_grade(result(exercise("conv2d", {"a": "passed"})), tmp_path, now=NOW)
    hist.record_check("conv2d", tmp_path, passed=False, now=NOW - timedelta(hours=1))
    check, grade = hist.runs(slug="conv2d")          # oldest first
    assert (check.kind, check.passed, check.score, check.checks) == ("check", False, None, ())
    assert (grade.kind, grade.passed) == ("grade", True)
    assert [r.kind for r in hist.runs(kind="check")] == ["check"]
    assert hist.runs(slug="other") == []
    with pytest.raises(ValueError):
        hist.runs(kind="bogus")


def test_record_grade_rejects_what_is_not_a_result(hist, tmp_path):
    with pytest.raises(ValueError, match="exercises"):
        hist.record_grade({"score": 1}, tmp_path, now=NOW)
    with pytest.raises(ValueError, match="schema 2"):
        hist.record_grade(dict(result(), schema=2), tmp_path, now=NOW)
    with pytest.raises(ValueError):
        hist.record_check("", tmp_path, passed=True, now=NOW)


def test_reopen_keeps_runs_and_hints(tmp_path):
    path = tmp_path / "history.sqlite3"
    with open_history(path) as h:
        h.record_grade(result(exercise("conv2d", {"a": "passed", "b": "failed"})), tmp_path,
                       now=NOW)
        h.mark_hint("conv2d", 0, now=NOW)
    with open_history(path) as h:
        assert h.note is None
        assert [(r.slug, r.score) for r in h.runs()] == [("conv2d", 1.0)]
        assert h.hints_seen("conv2d") == [0]
        assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == \
            history_mod.SCHEMA_VERSION


def test_mark_hint_is_idempotent(hist):
    hist.mark_hint("conv2d", 2, now=NOW)
    hist.mark_hint("conv2d", 2, now=NOW + timedelta(days=1))
    hist.mark_hint("conv2d", 0, now=NOW)
    assert hist.hints_seen("conv2d") == [0, 2]
    assert hist.hints_seen("conv2d-fix") == []
    with pytest.raises(ValueError):
        hist.mark_hint("conv2d", -1)


# --- damaged files ------------------------------------------------------------------------------


def test_corrupt_file_is_moved_aside_and_recreated(tmp_path):
    path = tmp_path / "history.sqlite3"
    garbage = b"this is not a database at all\n" * 200
    path.write_bytes(garbage)
    with open_history(path, now=NOW) as h:
        aside = tmp_path / "history.sqlite3.corrupt-20240510T120000Z"
        assert aside.read_bytes() == garbage                 # nothing lost
        assert h.note and "\n" not in h.note and aside.name in h.note
        assert h.runs() == []
        h.record_check("conv2d", tmp_path, passed=True, now=NOW)
    with open_history(path, now=NOW) as h:                   # the new file is healthy
        assert h.note is None and len(h.runs()) == 1


@pytest.mark.parametrize("setup", [
    "CREATE TABLE runs (x); PRAGMA user_version = 1;",       # right version, foreign columns
    "CREATE TABLE notes (text); PRAGMA user_version = 99;",  # unknown version
    "CREATE TABLE notes (text);",                            # some other program's database
])
def test_wrong_schema_is_moved_aside(tmp_path, setup):
    path = tmp_path / "history.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(setup)
    conn.close()
    with open_history(path, now=NOW) as h:
        assert h.note is not None
        assert h.runs() == []
    assert (tmp_path / "history.sqlite3.corrupt-20240510T120000Z").exists()


def test_second_recovery_in_the_same_second_keeps_both_files(tmp_path):
    path = tmp_path / "history.sqlite3"
    for _ in range(2):
        path.write_bytes(b"x" * 4096)
        open_history(path, now=NOW).close()
    assert len(list(tmp_path.glob("history.sqlite3.corrupt-*"))) == 2


# --- location -----------------------------------------------------------------------------------


def test_torchdrill_home_overrides_the_location(tmp_path, monkeypatch):
    home = tmp_path / "not" / "yet" / "there"
    monkeypatch.setenv("TORCHDRILL_HOME", str(home))
    assert default_history_path() == home / "history.sqlite3"
    with open_history() as h:                                # the folder is created
        assert h.path == home / "history.sqlite3"
    assert (home / "history.sqlite3").is_file()


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_DATA_HOME is a Linux convention")
def test_xdg_data_home_is_respected_without_torchdrill_home(tmp_path, monkeypatch):
    monkeypatch.delenv("TORCHDRILL_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_history_path() == tmp_path / "xdg" / "torchdrill" / "history.sqlite3"


# --- hints, one at a time ---------------------------------------------------------------------


def test_hints_come_one_at_a_time_then_all_seen(hist):
    hints = ["Compute the output size first.", "Use unfold."]
    shown = []
    for _ in range(3):
        picked = next_hint(hints, hist.hints_seen("conv2d"))
        shown.append(format_hint("conv2d", hints, picked))
        if picked:
            hist.mark_hint("conv2d", picked[0], now=NOW)
    assert shown[0] == ("Hint 1 of 2 for conv2d:\nCompute the output size first.\n"
                        "(1 more: run `torchdrill hint conv2d` again, or --all)")
    assert shown[1].startswith("Hint 2 of 2 for conv2d:\nUse unfold.\n")
    assert "last one" in shown[1] and "--all" in shown[1]
    assert shown[2] == ("All 2 hints for conv2d already seen; "
                        "`torchdrill hint conv2d --all` shows them again.")


def test_hint_text_matches_the_cli_wording():
    hints = ["first", "second", "third"]
    assert next_hint(hints, []) == (0, "first", 2)
    assert format_hint("conv2d", hints, next_hint(hints, [])) == (
        "Hint 1 of 3 for conv2d:\nfirst\n(2 more: run `torchdrill hint conv2d` again, or --all)")
    assert next_hint(hints, [0, 2, 7]) == (1, "second", 0)   # 7: a hint since removed
    assert next_hint(hints, [0, 1, 2]) is None
    assert "no hints" in format_hint("conv2d", [], None)
    assert format_all_hints("conv2d", ["a", "b"]) == \
        "Hint 1 of 2 for conv2d:\na\n\nHint 2 of 2 for conv2d:\nb"
