"""The runner end to end on fixture submissions, compared with golden result JSON kept beside
each (tests/fixtures/<case>/expected_result.json, Exercism's layout; regenerate with
TORCHDRILL_REGOLD=1 and review the diff). Every golden is a valid result (the JSON Schema)."""

import json
import os
import time

import pytest

from grader.report import validate_result

from conftest import FIXTURE_ROOT, SUBS, TESTS, grade_json, invoke, normalise

CASES = ["full", "partial", "exit0", "segfault", "syntax", "missing", "forbidden", "conftest", "hang"]


@pytest.mark.parametrize("name", CASES)
def test_golden(name, fixture_root, tmp_path):
    started = time.monotonic()
    result = grade_json(SUBS / name, tmp_path)
    elapsed = time.monotonic() - started
    assert validate_result(result) == ""
    got = normalise(result)
    path = SUBS / name / "expected_result.json"
    if os.environ.get("TORCHDRILL_REGOLD"):
        path.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
    expected = json.loads(path.read_text())
    assert validate_result(expected) == ""
    assert got == expected
    assert elapsed < 10 + 8, "the time limit (10 s) plus a few seconds bounds every grade"


def test_schema_fields(fixture_root, tmp_path):
    result = grade_json(SUBS / "partial", tmp_path)
    assert set(result) == {"schema", "tool", "version", "created", "environment", "submission",
                           "audience", "score", "max_score", "exercises"}
    assert set(result["environment"]) == {"python", "torch", "device", "device_name", "threads",
                                          "isolation"}
    ex = result["exercises"][0]
    assert set(ex) - {"sources"} == {"slug", "title", "status", "score", "max_score", "duration_s", "checks",
                                     "timings", "flags", "zeroed", "zeroed_by", "follow_ups"}
    assert set(ex["checks"][0]) == {"id", "name", "outcome", "points", "message"}
    assert ex["checks"][3]["message"].startswith("relu(Tensor[3] float64) returned the result with dtype")


def test_reference_never_importable(fixture_root, tmp_path):
    """The hidden checks sit next to the reference in solutions/; the child must not see it."""
    sub = tmp_path / "sub" / "tiny"
    sub.mkdir(parents=True)
    (sub / "tiny.py").write_text(
        "import sys, importlib\n"
        "sys.modules.pop('tiny', None)\n"
        "for p in list(sys.path):\n"
        "    if p.endswith('solutions/tiny') or p.endswith('checks'):\n"
        "        pass\n"
        "def add(a, b):\n"
        "    import os\n"
        "    here = os.path.dirname(os.path.abspath(__file__))\n"
        "    names = []\n"
        "    for p in sys.path:\n"
        "        try: names += os.listdir(p or '.')\n"
        "        except OSError: pass\n"
        "    return 5 if names.count('tiny.py') > 1 else -1\n"
        "def relu(t):\n"
        "    return t\n")
    result = grade_json(tmp_path / "sub", tmp_path)
    assert result["exercises"][0]["checks"][0]["outcome"] == "failed"


def test_missing_optional_requirement_is_skipped_with_the_reason(tmp_path, monkeypatch):
    """An exercise whose optional package (Triton) is not installed is reported as skipped,
    with the install command, by grade and by validate: never passed, never crashed."""
    import shutil
    root = tmp_path / "root"
    shutil.copytree(FIXTURE_ROOT, root)
    toml = root / "exercises" / "tiny" / "exercise.toml"
    toml.write_text(toml.read_text().replace('files = ["tiny.py"]',
                                             'files = ["tiny.py"]\nrequires = ["torchdrill_absent_pkg"]'))
    monkeypatch.setenv("TORCHDRILL_ROOT", str(root))
    result = grade_json(SUBS / "full", tmp_path)
    (ex,) = result["exercises"]
    assert ex["score"] == 0 and ex["max_score"] == 0 and ex["checks"]
    assert all(c["outcome"] == "skipped" and "needs torchdrill_absent_pkg" in c["message"]
               for c in ex["checks"])
    assert [f["kind"] for f in ex["flags"]] == ["skipped"]
    res = invoke("validate")
    assert res.exit_code == 0 and "- tiny: skipped, needs torchdrill_absent_pkg" in res.output


def test_describe_exit_names_a_failed_pytest_session():
    """A child whose pytest session failed before any check (e.g. an import that ran out of
    memory) is not described as an early exit by candidate code."""
    from grader.isolation.runner import ChildRun, describe_exit
    run = ChildRun(events=[{"event": "session", "exit_code": 3}], returncode=0,
                   output="INTERNALERROR> MemoryError\n")
    assert describe_exit(run, 10) == ("the pytest session hit an internal error (exit code 3) "
                                       "(MemoryError): INTERNALERROR> MemoryError")
    clean = ChildRun(events=[{"event": "session", "exit_code": 1}], returncode=0)
    assert "ended early (exit code 0" in describe_exit(clean, 10)
