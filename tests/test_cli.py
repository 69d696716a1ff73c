"""Every command through click's CliRunner, as a user would call it."""

import json
import subprocess
import sys

from conftest import PROJECT, SUBS, grade_json, invoke


def test_version():
    res = invoke("--version")
    assert res.exit_code == 0 and "0.1.0" in res.output


def test_list_text_and_json(fixture_root):
    res = invoke("list")
    assert res.exit_code == 0 and "tiny" in res.output and "4 pts" in res.output
    rows = json.loads(invoke("list", "--json").output)
    assert rows == [{"slug": "tiny", "title": "Tiny fixture exercise", "difficulty": "easy",
                     "tags": ["fixture"], "points": 4.0, "time_limit_s": 10.0,
                     "files": ["tiny.py"], "timed": False, "requires": []}]


def test_list_show_hint_help_do_not_import_torch(real_root):
    code = ("import sys; from grader.cli import main\n"
            "for argv in (['list'], ['show', 'conv2d'], ['hint', 'conv2d'], ['--help'], ['list', '--json']):\n"
            "    try: main(argv)\n"
            "    except SystemExit as e: assert e.code in (0, None), (argv, e.code)\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().endswith("NO-TORCH")


def test_show_and_hint(fixture_root):
    res = invoke("show", "tiny")
    assert res.exit_code == 0 and "Implement `add(a, b)`" in res.output
    res = invoke("hint", "tiny")                   # one at a time, the next unseen one
    assert res.exit_code == 0 and "Hint 1 of 1 for tiny:\nrelu(x) = max(x, 0)." in res.output


def test_unknown_slug_is_exit_2_one_line(fixture_root):
    for args in (("show", "nope"), ("hint", "nope"), ("start", "nope"), ("validate", "nope"),
                 ("grade", SUBS / "full", "--exercise", "nope")):
        res = invoke(*args)
        assert res.exit_code == 2, args
        assert res.output.strip() == "torchdrill: error: unknown exercise 'nope'; `torchdrill list` shows the slugs"


def test_bad_paths_are_exit_2(fixture_root, tmp_path):
    res = invoke("grade", tmp_path / "absent")
    assert res.exit_code == 2 and "no such submission folder" in res.output
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    assert invoke("grade", afile).exit_code == 2
    assert invoke("report", tmp_path / "absent.json", "--html", tmp_path / "r.html").exit_code == 2
    assert invoke("grade", SUBS / "full", "--json", tmp_path / "no" / "dir" / "r.json").exit_code == 2
    assert invoke("grade", SUBS / "full", "-j", "0").exit_code == 2


def test_malformed_exercise_toml_is_exit_2(tmp_path, monkeypatch):
    import shutil
    shutil.copytree(PROJECT / "tests" / "tiny_catalogue", tmp_path / "root")
    toml = tmp_path / "root" / "exercises" / "tiny" / "exercise.toml"
    toml.write_text("bogus = 1\n" + toml.read_text())
    monkeypatch.setenv("TORCHDRILL_ROOT", str(tmp_path / "root"))
    res = invoke("list")
    assert res.exit_code == 2
    assert "unknown key 'bogus'" in res.output and len(res.output.strip().splitlines()) == 1


def test_start_then_check(fixture_root, tmp_path):
    res = invoke("start", "tiny", "--dir", tmp_path)
    assert res.exit_code == 0
    work = tmp_path / "tiny"
    # exercise.toml stays home: it holds every hint at once and the interviewer's follow-ups
    assert sorted(p.name for p in work.iterdir()) == ["README.md", "test_tiny.py", "tiny.py"]
    res = invoke("check", "--dir", tmp_path)
    assert res.exit_code == 1 and "✗ tiny" in res.output
    (work / "tiny.py").write_text((fixture_root / "solutions" / "tiny" / "tiny.py").read_text())
    res = invoke("start", "tiny", "--dir", tmp_path)           # restarting keeps the work
    assert "already there, kept" in res.output
    assert "return a + b" in (work / "tiny.py").read_text()
    res = invoke("check", "--dir", tmp_path)
    assert res.exit_code == 0 and "✓ tiny" in res.output


def test_check_without_started_exercise_is_exit_2(fixture_root, tmp_path):
    res = invoke("check", "--dir", tmp_path)
    assert res.exit_code == 2 and "torchdrill start" in res.output


def test_grade_fail_under_and_report(fixture_root, tmp_path):
    out, html = tmp_path / "r.json", tmp_path / "r.html"
    res = invoke("grade", SUBS / "partial", "--json", out, "--html", html, "--fail-under", "80")
    assert res.exit_code == 1 and "Score: 3.00 / 4.00 (75.0%)" in res.output
    res = invoke("grade", SUBS / "partial", "--fail-under", "75")
    assert res.exit_code == 0
    again = tmp_path / "again.html"
    res = invoke("report", out, "--html", again)
    assert res.exit_code == 0
    assert again.read_text() == html.read_text()


def test_report_rejects_non_result_json(fixture_root, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": 2}')
    res = invoke("report", bad, "--html", tmp_path / "r.html")
    assert res.exit_code == 2 and "not a torchdrill result" in res.output
    bad.write_text("{not json")
    assert invoke("report", bad, "--html", tmp_path / "r.html").exit_code == 2


def test_junit_output(fixture_root, tmp_path):
    import xml.etree.ElementTree as ET
    junit = tmp_path / "r.xml"
    res = invoke("grade", SUBS / "partial", "--junit", junit)
    assert res.exit_code == 0
    root = ET.parse(junit).getroot()
    assert root.get("tests") == "4" and root.get("failures") == "1"


def test_python_dash_m(fixture_root):
    proc = subprocess.run([sys.executable, "-m", "grader", "list"], capture_output=True, text=True)
    assert proc.returncode == 0 and "tiny" in proc.stdout


def test_validate_fixture(fixture_root):
    res = invoke("validate", "-j", "2")
    assert res.exit_code == 0, res.output
    assert "4 of 4 validation runs ok" in res.output


def test_grade_solutions_full_marks(fixture_root, tmp_path):
    result = grade_json(fixture_root / "solutions", tmp_path)
    assert result["score"] == result["max_score"] == 4.0


def test_device_cuda_without_gpu_is_exit_2(fixture_root, monkeypatch):
    from grader.engine import environment
    monkeypatch.setattr(environment, "_cuda_available", lambda: False)
    res = invoke("grade", SUBS / "full", "--device", "cuda")
    assert res.exit_code == 2 and "no usable CUDA device" in res.output
    assert environment.resolve_device("auto") == "cpu"


def test_an_output_folder_that_does_not_exist_is_refused_before_grading(fixture_root, tmp_path):
    """Minutes of grading must never be lost to a typo in --json/--html: refused first."""
    res = invoke("grade", SUBS / "full", "--json", tmp_path / "nope" / "r.json")
    assert res.exit_code == 2
    assert "nope: folder does not exist" in res.output and "graded" not in res.output


def test_a_reader_that_leaves_early_is_not_an_internal_error(fixture_root):
    """`torchdrill hint tiny --all | head -1`: a closed pipe ends quietly with exit 0."""
    proc = subprocess.Popen([sys.executable, "-m", "grader", "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()                      # the reader is gone before anything is written
    _, err = proc.communicate(timeout=60)
    assert b"internal error" not in err and proc.returncode == 0, err
