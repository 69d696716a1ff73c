"""`torchdrill watch` and the kit's run_checks.py (the same file): change detection, the
progress display, manual mode, all with bounded loops."""

import shutil
import subprocess
import sys
import time

from grader.practice import watch

from conftest import FIXTURE_ROOT, invoke

SOLUTION = (FIXTURE_ROOT / "solutions" / "tiny" / "tiny.py").read_text()


def started(tmp_path):
    shutil.copytree(FIXTURE_ROOT / "exercises" / "tiny", tmp_path / "tiny")
    return tmp_path


def test_progress_bar():
    assert watch.progress_bar(0, 4, width=8) == "[--------] 0/4"
    assert watch.progress_bar(1, 4, width=8) == "[##>-----] 1/4"
    assert watch.progress_bar(4, 4, width=8) == "[########] 4/4"


def test_find_exercises_and_fingerprint(tmp_path):
    for slug in ("b", "a", "c"):
        (tmp_path / slug).mkdir()
        (tmp_path / slug / f"test_{slug}.py").write_text("")
    (tmp_path / "notes").mkdir()                                  # no tests: not an exercise
    assert [e.slug for e in watch.find_exercises(tmp_path)] == ["a", "b", "c"]
    assert [e.slug for e in watch.find_exercises(tmp_path, order=["c", "a"])] == ["c", "a", "b"]
    before = watch.fingerprint(tmp_path / "a")
    (tmp_path / "a" / "__pycache__").mkdir()
    (tmp_path / "a" / "__pycache__" / "x.pyc").write_text("x")
    assert watch.fingerprint(tmp_path / "a") == before              # caches do not count
    (tmp_path / "a" / "a.py").write_text("x = 1\n")
    assert watch.fingerprint(tmp_path / "a") != before


def test_watch_once_via_cli(fixture_root, tmp_path):
    work = started(tmp_path)
    res = invoke("watch", "--dir", work, "--once")
    assert res.exit_code == 1
    assert "✗ tiny" in res.output and "0/1 exercises pass" in res.output
    assert "NotImplementedError" in res.output
    (work / "tiny" / "tiny.py").write_text(SOLUTION)
    res = invoke("watch", "tiny", "--dir", work, "--once")
    assert res.exit_code == 0 and "1/1 exercises pass" in res.output
    assert invoke("watch", "nope", "--dir", work, "--once").exit_code == 2
    assert invoke("watch", "--dir", tmp_path / "absent").exit_code == 2


def test_watch_reruns_when_a_file_changes(fixture_root, tmp_path):
    work = started(tmp_path)
    lines, polls = [], []
    exercises = watch.find_exercises(work)

    def fake_sleep(_):
        polls.append(1)
        if len(polls) == 1:                       # the candidate saves a fix
            (work / "tiny" / "tiny.py").write_text(SOLUTION)
            time.sleep(0.01)

    w = watch.Watcher(exercises, echo=lines.append, sleep=fake_sleep)
    assert w.loop(max_polls=3) == 0
    text = "\n".join(lines)
    assert text.count("[1/1] checking tiny") == 2, "one run at start, one after the save"
    assert "0/1" in text and "1/1 exercises pass" in text and "All public checks pass" in text
    assert len(polls) == 3


def test_manual_mode_reruns_on_enter_and_quits_on_q(fixture_root, tmp_path):
    work = started(tmp_path)
    lines = []

    def slow_sleep(_):
        time.sleep(0.3)                           # let the input thread deliver the line

    w = watch.Watcher(watch.find_exercises(work), echo=lines.append, sleep=slow_sleep,
                      manual=True, lines=iter(["\n", "q\n"]))
    started_at = time.monotonic()
    assert w.loop(max_polls=20) == 1
    assert time.monotonic() - started_at < 30
    assert "\n".join(lines).count("[1/1] checking tiny") >= 2      # start + Enter
    assert "press Enter to rerun" in "\n".join(lines)


def test_run_checks_script_standalone(tmp_path):
    """The kit's copy runs with the standard library only (the grader is not importable)."""
    work = started(tmp_path / "exercises")
    script = tmp_path / "run_checks.py"
    shutil.copy(watch.__file__, script)
    block = ("import sys, runpy; sys.modules['grader'] = None; sys.argv = ['run_checks.py', *sys.argv[1:]];"
             "runpy.run_path('run_checks.py', run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1 and "0/1" in proc.stdout, proc.stdout + proc.stderr
    (work / "tiny" / "tiny.py").write_text(SOLUTION)
    proc = subprocess.run([sys.executable, "-c", block, "--watch", "--max-polls", "2"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and "1/1" in proc.stdout and "Watching 1 exercise" in proc.stdout
    proc = subprocess.run([sys.executable, "run_checks.py", "nope"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "no exercise 'nope'" in proc.stderr
