"""The HTML report per audience, the candidate's code in it, JUnit XML, and the CLI flags that
write them. Mostly rendered from a prepared result (tests/report_samples.py): no grading."""

import json
import re
import xml.etree.ElementTree as ET

import pytest

from grader.report import junit
from grader.report import view as report_view
from grader.report import render_html, validate_result
from grader.engine.sources import SOURCE_CAP, attach_sources, read_source, scrub

from conftest import SUBS, invoke
from report_samples import ATTEMPTED_NAMES, HIDDEN_IDS, sample_result


@pytest.fixture
def result():
    r = sample_result()
    assert validate_result(r) == ""
    return r


def test_interviewer_summary_comes_first(result):
    html = render_html(result, "interviewer")
    summary = html.index('id="summary"')
    assert summary < html.index('id="ex-conv2d"')
    head = html[summary:html.index('<nav class="toc"')]
    assert 'id="total-score">48%' in head                     # 17.25 / 36
    assert "17.25 of 36 points" in head
    assert 'aria-label="Score per exercise"' in head and "<svg" in head
    strongest = head[head.index('id="strongest"'):head.index('id="weakest"')]
    weakest = head[head.index('id="weakest"'):head.index('id="flags-summary"')]
    assert "Output size of a convolution" in strongest and "100%" in strongest
    assert "Depthwise-separable convolution" in weakest and "(timed out)" in weakest
    assert "Output size" not in weakest
    assert "zeroes the exercise" in head and "forbidden-api" in head
    assert "0.76×" in head                      # geometric mean of 0.46 and 1.25
    assert "@media print" in html


def test_interviewer_sees_names_ids_and_code_with_marked_lines(result):
    html = render_html(result, "interviewer")
    for name in ATTEMPTED_NAMES:
        assert name in html
    assert "test_hidden.py::test_padding_same_with_even_kernels" in html
    # the failing check's message links to line 11 of the candidate's file ...
    assert '<a class="lineref" href="#src-conv2d-conv2d_py-11">conv2d.py:11</a>' in html
    # ... and line 11 carries the check's name next to it
    row = re.search(r'<tr id="src-conv2d-conv2d_py-11" class="marked">.*?</tr>\s*'
                    r'<tr class="markrow">(.*?)</tr>', html, re.S)
    assert row and "✗ padding same with even kernels" in row.group(1)
    assert "p = (h + 2 * padding" in row.group(0)
    # a zeroing flag marks its line in red, and the summary of the file lists the line
    fold = re.search(r'<tr id="src-conv-bn-fold-fold_py-12" class="marked">.*?'
                     r'<tr class="markrow">(.*?)</tr>', html, re.S)
    assert fold and '<span class="mark zero">⚑ forbidden-api</span>' in fold.group(1)
    assert 'href="#src-conv-bn-fold-fold_py-3">line 3</a>' in html
    # a reference to a file that is not the candidate's is not a link
    assert "test_hidden.py line 40" in html and 'href="#src-conv-bn-fold-test_hidden' not in html


def test_candidate_view_names_checks_but_hides_ids_code_and_internal_details(result):
    html = render_html(result, "candidate")
    for check_id in HIDDEN_IDS:
        assert check_id not in html, check_id
    for name in ATTEMPTED_NAMES:                 # what failed is named, by its docstring line
        assert name in html, name
    assert "test_hidden" not in html and "check 3" not in html
    assert "F.unfold" not in html and "Candidate code" not in html
    assert "secret detail" not in html and "details are in the interviewer&#39;s report" in html
    assert "speed against PyTorch" in html
    for category in ("exception", "shape", "time limit", "not attempted", "forbidden-api"):
        assert category in html
    # the candidate-facing message stays, unlinked
    assert "unsupported operand type(s)" in html and 'class="lineref"' not in html
    assert "Candidate view" in html


def test_both_views_come_from_the_same_json(result, tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(result))
    for audience in ("interviewer", "candidate"):
        out = tmp_path / f"{audience}.html"
        res = invoke("report", path, "--html", out, "--audience", audience)
        assert res.exit_code == 0, res.output
        assert out.read_text() == render_html(result, audience)
    res = invoke("report", path, "--html", tmp_path / "default.html")   # the recorded audience
    assert (tmp_path / "default.html").read_text() == render_html(result, "interviewer")


def test_hostile_text_is_escaped_and_the_page_runs_no_script(result):
    ex = result["exercises"][1]
    ex["checks"][0]["name"] = '<script>alert("name")</script>'
    ex["checks"][2]["message"] = '<img src=x onerror=alert(1)> at conv2d.py:11'
    ex["sources"]["conv2d.py"] += '\nx = "</script><script>alert(2)</script>"\n'
    result["submission"] = "<b>sub</b>"
    result["exercises"][2]["flags"][0]["detail"] = '"><svg onload=alert(3)> at fold.py:12'
    for audience in ("interviewer", "candidate"):
        html = render_html(result, audience)
        assert "<script" not in html and "<img" not in html and "<svg onload" not in html
        assert "default-src 'none'" in html and "script-src" not in html


def test_categories():
    cat = report_view.categorise
    assert cat({"id": "a", "outcome": "passed", "message": ""}) == "passed"
    assert cat({"id": "a", "outcome": "timeout", "message": "no result"}) == "time limit"
    assert cat({"id": "a", "outcome": "failed", "message": "tiny.py has a syntax error at line 1"}) == "syntax error"
    assert cat({"id": "a", "outcome": "failed", "message": "called the forbidden operation aten.relu"}) == "forbidden API"
    assert cat({"id": "a", "outcome": "failed", "message": "returned dtype torch.float32"}) == "dtype"
    assert cat({"id": "a", "outcome": "failed", "message": "max abs error 3.0"}) == "wrong result"
    assert cat({"id": "a", "outcome": "error", "message": "KeyError: 3"}) == "exception"
    assert cat({"id": "timing::speed", "outcome": "failed", "message": "slow"}) == "speed"


def test_report_without_optional_keys_still_renders(result):
    for ex in result["exercises"]:
        ex.pop("sources", None)
        ex.pop("title", None)
    html = render_html(result, "interviewer")
    assert "Candidate code" not in html and 'id="ex-conv2d"' in html


def test_missing_everything_and_skipped_exercises(result):
    result["exercises"][1]["max_score"] = 0.0
    result["exercises"][1]["flags"] = [{"kind": "skipped", "detail": "skipped: needs triton"}]
    html = render_html(result, "interviewer")
    assert "Not graded on this machine" in html and "skipped: needs triton" in html


# ----------------------------------------------------------------------------- sources

def test_sources_are_capped_and_links_are_not_followed(tmp_path, fixture_root):
    from grader.catalogue import load_catalogue
    tiny = load_catalogue()["tiny"]
    sub = tmp_path / "sub"
    (sub / "tiny").mkdir(parents=True)
    (sub / "tiny" / "tiny.py").write_text("x" * (SOURCE_CAP + 10))
    text = read_source(sub / "tiny" / "tiny.py")
    assert text.startswith("x" * 100) and "truncated" in text and len(text) < SOURCE_CAP + 200
    secret = tmp_path / "secret.py"
    secret.write_text("SECRET")
    (sub / "tiny" / "tiny.py").unlink()
    (sub / "tiny" / "tiny.py").symlink_to(secret)
    result = {"exercises": [{"slug": "tiny", "status": "graded"}]}
    attach_sources(result, [tiny], sub)
    assert "sources" not in result["exercises"][0]


def test_scrub_makes_lone_surrogates_writable():
    data = {"a": ["ok", "bad \ud800 end", {"b": "\udfff"}], "n": 1}
    scrub(data)
    assert data == {"a": ["ok", "bad \ufffd end", {"b": "\ufffd"}], "n": 1}
    json.dumps(data, ensure_ascii=False).encode("utf-8")


def test_grade_carries_sources_unless_told_not_to(fixture_root, tmp_path):
    out = tmp_path / "r.json"
    assert invoke("grade", SUBS / "forbidden", "--json", out).exit_code == 0
    ex = json.loads(out.read_text())["exercises"][0]
    assert ex["sources"] == {"tiny.py": (SUBS / "forbidden" / "tiny" / "tiny.py").read_text()}
    html = tmp_path / "r.html"
    assert invoke("report", out, "--html", html).exit_code == 0
    assert 'class="marked"' in html.read_text() and "⚑ forbidden-api" in html.read_text()
    assert invoke("grade", SUBS / "forbidden", "--json", out, "--no-sources").exit_code == 0
    assert "sources" not in json.loads(out.read_text())["exercises"][0]


def test_hostile_message_with_lone_surrogate_is_graded(fixture_root, tmp_path):
    sub = tmp_path / "sub" / "tiny"
    sub.mkdir(parents=True)
    (sub / "tiny.py").write_text('def add(a, b):\n    raise ValueError("bad \\ud800 \\x00 \\x1b[31m")\n'
                                 'def relu(t):\n    raise ValueError("\\udfff")\n')
    paths = [tmp_path / n for n in ("r.json", "r.html", "r.xml")]
    res = invoke("grade", tmp_path / "sub", "--json", paths[0], "--html", paths[1],
                 "--junit", paths[2])
    assert res.exit_code == 0, res.output
    assert "\ufffd" in paths[0].read_text(encoding="utf-8")
    ET.parse(paths[2])


# ----------------------------------------------------------------------------- JUnit

def _check_junit_shape(xml_text: str) -> ET.Element:
    """The structure CI systems read (the Ant/Jenkins JUnit schema): counts must add up."""
    root = ET.fromstring(xml_text.encode("utf-8"))
    assert root.tag == "testsuites"
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root:
        assert suite.tag == "testsuite"
        for attr in ("name", "tests", "failures", "errors", "skipped", "time"):
            assert suite.get(attr) is not None, attr
        float(suite.get("time"))
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert {child.tag for child in suite} <= {"properties", "testcase", "system-out"}
        for tag, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            found = sum(len(c.findall(tag)) for c in cases)
            assert int(suite.get(key)) == found
            totals[key] += found
        totals["tests"] += len(cases)
        for case in cases:
            assert case.get("name") and case.get("classname")
            assert len(list(case)) <= 1
            for child in case:
                assert child.tag in ("failure", "error", "skipped")
                assert child.get("message") is not None
    for key, value in totals.items():
        assert int(root.get(key)) == value
    return root


def test_junit_structure_and_zeroing_flag(result):
    root = _check_junit_shape(junit.to_junit(result))
    fold = root.find("testsuite[@name='conv-bn-fold']")
    names = [c.get("name") for c in fold.findall("testcase")]
    assert names[-1] == "flag: forbidden-api (exercise scored zero)"
    assert fold.get("failures") == "1"
    assert "introspection" in fold.find("system-out").text
    sep = root.find("testsuite[@name='separable-conv']")
    assert sep.get("errors") == "2"
    conv = root.find("testsuite[@name='conv2d']")
    failure = conv.find("testcase[@name='padding same with even kernels']/failure")
    assert "unsupported operand" in failure.get("message") and failure.text == failure.get("message")


def test_junit_candidate_audience_and_hostile_text(result):
    result["exercises"][1]["checks"][2]["message"] = "bad \x00\x1b \ud800 \uffff ]]> <&>"
    xml_text = junit.to_junit(result, "candidate")
    root = _check_junit_shape(xml_text)
    for check_id in HIDDEN_IDS:
        assert check_id not in xml_text
    names = [c.get("name") for c in root.iter("testcase")]
    third = result["exercises"][1]["checks"][2]["name"]
    assert third in names and "speed against PyTorch" in names
    assert "]]> <&>" in [c for c in root.iter("testcase") if c.get("name") == third][0].find("failure").text


def test_cli_junit_fail_under_and_list_json(fixture_root, tmp_path):
    xml_path = tmp_path / "r.xml"
    res = invoke("grade", SUBS / "forbidden", "--junit", xml_path, "--fail-under", "1")
    assert res.exit_code == 1 and "under --fail-under 1%" in res.output
    root = _check_junit_shape(xml_path.read_text())
    # two failing checks and one zeroing flag (forbidden-api at run time; the static find is a
    # forbidden-mention, which costs nothing)
    assert root.get("failures") == "3"
    res = invoke("grade", SUBS / "full", "--junit", xml_path, "--fail-under", "100",
                 "--audience", "candidate")
    assert res.exit_code == 0
    assert "adds small numbers" in xml_path.read_text() and "test_hidden.py::" not in xml_path.read_text()
    rows = json.loads(invoke("list", "--json").output)
    assert [r["slug"] for r in rows] == ["tiny"]


def test_not_attempted_exercises_are_one_line_and_never_weakest(result):
    for audience in ("interviewer", "candidate"):
        html = render_html(result, audience)
        line = re.search(r'<p class="note small not-attempted" id="not-attempted">(.*?)</p>', html, re.S)
        assert line and "amp-train-step" in line.group(1), audience
        assert '<section class="exercise card" id="ex-amp-train-step"' not in html
        assert 'href="#ex-amp-train-step"' in html             # the chip still links somewhere
        weakest = html[html.index('id="weakest"'):html.index('id="flags-summary"')]
        assert "mixed-precision" not in weakest.lower() and "amp-train-step" not in weakest
