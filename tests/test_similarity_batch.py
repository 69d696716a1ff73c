"""grade-many's similarity report, end to end: OUT/similarity.csv and .html, and the
leaderboard's "similar to" column (HTML and CSV). Done means: over the real catalogue, the
reference and a renamed-and-reformatted copy of it are flagged, an independently written
alternative is not; a batch of one says there is nothing to compare; a similarity failure
costs the similarity report only, never the leaderboard."""

import csv
import io
import logging
import shutil

from grader import batch
from grader.batch import similarity as sim
from grader.batch.leaderboard import render_leaderboard, to_csv

from conftest import PROJECT, SUBS, invoke
from test_similarity import disguise

SLUG = "conv-output-shape"          # one small exercise: the whole file runs in well under 60 s
FILE = "shape.py"


def _read_csv(path):
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _candidate(subs, name: str, source: str):
    folder = subs / name / SLUG
    folder.mkdir(parents=True)
    (folder / FILE).write_text(source, encoding="utf-8")


def _grade_many(subs, out):
    res = invoke("grade-many", subs, "--out", out, "--exercise", SLUG, "--no-timing", "-j", "2")
    assert res.exit_code == 0, res.output
    return res


def test_copy_is_flagged_and_the_alternative_is_not(real_root, tmp_path):
    reference = (PROJECT / "solutions" / SLUG / FILE).read_text(encoding="utf-8")
    stub = (PROJECT / "exercises" / SLUG / FILE).read_text(encoding="utf-8")
    alternative = (PROJECT / "solutions" / SLUG / "alt" / FILE).read_text(encoding="utf-8")
    copy = disguise(reference, stub, seed=1)
    assert copy != reference
    subs = tmp_path / "subs"
    _candidate(subs, "ref", reference)
    _candidate(subs, "copycat", copy)
    _candidate(subs, "indep", alternative)
    out = tmp_path / "out"
    _grade_many(subs, out)

    board = {r["candidate"]: r for r in _read_csv(out / "leaderboard.csv")}
    assert {r["status"] for r in board.values()} == {"graded"}
    assert all(r["percent"] == "100.0" for r in board.values()), board   # all three correct

    pairs = {frozenset((r["candidate_a"], r["candidate_b"])): r
             for r in _read_csv(out / "similarity.csv")}
    assert set(pairs) == {frozenset(p) for p in
                          (("ref", "copycat"), ("ref", "indep"), ("copycat", "indep"))}
    assert {r["exercise"] for r in pairs.values()} == {SLUG}
    flagged = float(pairs[frozenset(("ref", "copycat"))]["score"])
    assert flagged >= sim.THRESHOLD, pairs
    assert pairs[frozenset(("ref", "copycat"))]["signals"].startswith("code ")
    for other in (("ref", "indep"), ("copycat", "indep")):
        assert float(pairs[frozenset(other)]["score"]) < sim.THRESHOLD, pairs

    # the leaderboard: CSV column and HTML column, both naming only the copy pair
    assert board["ref"]["similar_to"] == "copycat"
    assert board["copycat"]["similar_to"] == "ref"
    assert board["indep"]["similar_to"] == ""
    html = (out / "leaderboard.html").read_text(encoding="utf-8")
    assert ">similar to</th>" in html and "not a verdict" in html
    row = lambda name: html.split(f'data-candidate="{name}"')[1].split("</tr>")[0]
    assert '<a href="similarity.html">copycat</a>' in row("ref")
    assert '<a href="similarity.html">ref</a>' in row("copycat")
    assert "similarity.html" not in row("indep")

    page = (out / "similarity.html").read_text(encoding="utf-8")
    assert "evidence for a person to look at, not a verdict" in page
    assert "1 pair at or above the threshold" in page
    assert 'class="match"' in page and "indep" not in page.split("<section")[0].split("<table")[1]


def test_batch_of_one_has_no_pairs(real_root, tmp_path):
    subs = tmp_path / "subs"
    _candidate(subs, "solo", (PROJECT / "solutions" / SLUG / FILE).read_text(encoding="utf-8"))
    out = tmp_path / "out"
    _grade_many(subs, out)
    page = (out / "similarity.html").read_text(encoding="utf-8")
    assert "one candidate: no pairs to compare" in page
    assert _read_csv(out / "similarity.csv") == []          # the header only
    assert _read_csv(out / "leaderboard.csv")[0]["similar_to"] == ""


# ----------------------------------------------------------------------------- failures (tiny catalogue)

def test_a_similarity_failure_keeps_the_leaderboard(fixture_root, tmp_path, monkeypatch, caplog):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copytree(SUBS / "full", subs / "alice")
    shutil.copytree(SUBS / "full", subs / "bob")
    out = tmp_path / "out"
    out.mkdir()
    (out / "leaderboard.csv").write_text("rank\n")         # an earlier run's output ...
    (out / "similarity.html").write_text("an earlier batch")  # ... whose pages would mislead

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(sim, "similarity_report", broken)
    with caplog.at_level(logging.WARNING, logger="grader.batch"):
        rows = batch.run_batch(subs, out, {"timing": False}, 2)
    assert [r["status"] for r in rows] == ["graded", "graded"]
    warnings = [r.getMessage() for r in caplog.records if r.name == "grader.batch"]
    assert len(warnings) == 1 and "similarity report skipped (RuntimeError: boom)" in warnings[0]
    assert "\n" not in warnings[0]
    assert not (out / "similarity.html").exists() and not (out / "similarity.csv").exists()
    html = (out / "leaderboard.html").read_text(encoding="utf-8")
    assert html.count('<span class="muted">not compared</span>') == 2
    assert "similarity report failed" in html
    assert {r["similar_to"] for r in _read_csv(out / "leaderboard.csv")} == {""}


def test_candidates_without_a_result_are_skipped(fixture_root, tmp_path, monkeypatch):
    """A candidate the grader failed on has no JSON row: compared without it, no crash."""
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("alice", "bob", "carol"):
        shutil.copytree(SUBS / "full", subs / name)
    from grader import report
    render_html = report.render_html

    def fail_for_carol(result, *args, **kwargs):
        if result["submission"].endswith("carol"):
            raise OSError("disk full")
        return render_html(result, *args, **kwargs)

    monkeypatch.setattr(report, "render_html", fail_for_carol)
    out = tmp_path / "out"
    batch.prepare_out_dir(out)
    rows = batch.run_batch(subs, out, {"timing": False}, 2)
    assert {r["candidate"]: r["status"] for r in rows} == {"alice": "graded", "bob": "graded",
                                                           "carol": "error"}
    pairs = _read_csv(out / "similarity.csv")
    assert [(p["candidate_a"], p["candidate_b"]) for p in pairs] == [("alice", "bob")]
    assert "carol" not in (out / "similarity.html").read_text(encoding="utf-8")


def test_a_candidate_called_similarity_keeps_its_report(fixture_root, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "similarity").mkdir()
    (subs / "alice").mkdir()
    assert [n for n, _ in batch.discover(subs)] == ["alice", "similarity-2"]


# ----------------------------------------------------------------------------- the column

def _rows(similar: dict[str, list[str]]):
    base = {"status": "graded", "error": "", "score": 1.0, "max_score": 1.0, "pct": 100.0,
            "exercises": {}, "flags": 0, "zeroing_flags": 0, "speedup": None,
            "timed_cases": 0, "duration_s": 1.0, "json": None, "html": None}
    return [dict(base, candidate=name, similar_to=others) for name, others in similar.items()]


META = {"created": "now", "version": "0", "candidates": 2, "device": "cpu", "timing": False,
        "graded": 2, "problems": 0, "similarity": 0.6}


def test_column_shows_three_names_and_how_many_more_escaped():
    evil = "<img src=x onerror=alert(1)>"
    rows = _rows({"ann": [evil, "b", "c", "d", "e"], "solo": []})
    html = render_leaderboard(rows, [], META)
    cell = html.split('data-candidate="ann"')[1].split("</tr>")[0]
    assert "<img" not in html and "&lt;img src=x" in cell
    assert "b, c and 2 more</a>" in cell and 'href="similarity.html"' in cell
    assert "evidence to look at, not a verdict" in cell                 # the cell's tooltip
    assert "Evidence for a person to look at, not a verdict" in html    # the heading's
    assert "similarity.html" not in html.split('data-candidate="solo"')[1].split("</tr>")[0]
    # no batch similarity (older callers, sample rows): no column at all
    plain = render_leaderboard(rows, [], {k: v for k, v in META.items() if k != "similarity"})
    assert "similar to" not in plain


def test_csv_column_is_formula_safe():
    rows = _rows({"ann": ["=HYPERLINK(\"x\")", "bob"], "bob": ["ann"]})
    parsed = {r["candidate"]: r for r in csv.DictReader(io.StringIO(to_csv(rows, [])))}
    assert parsed["ann"]["similar_to"] == "'=HYPERLINK(\"x\"); bob"
    assert parsed["bob"]["similar_to"] == "ann"
