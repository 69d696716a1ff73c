"""The README's tours, command by command, through the installed `torchdrill` console script,
with relative paths, from a fresh temporary working folder: the README cannot drift from what
the tool does.

The ```bash blocks under "### Candidate" and "### Interviewer" are parsed from README.md. What
the test changes, and why:
- `$EDITOR work/conv2d/conv2d.py` needs a person: the reference solution is copied in instead,
  so the later commands see finished work (check passes, the grade is full marks).
- `watch` without `--once` runs until Ctrl-C: it runs with `--once` (same code path, one round).
- `--executor dask --scheduler tcp://host:8786` needs a cluster: skipped (tests/test_cluster.py
  covers the dask executor).
- `path/to/submission` is the candidate's real work folder from the candidate tour.
- `grade` and `grade-many` get `--no-timing`: conv2d's timing run (large convolutions, no
  speed points) would triple the test's time and is covered by the timing tests.
The whole tour uses one temporary TORCHDRILL_HOME (conftest.py sets one for every test).
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import PROJECT

README = PROJECT / "README.md"
SKIPPED = {"--executor": "needs a dask cluster", "$EDITOR": "needs a person at an editor"}


def console_script() -> str:
    script = Path(sys.executable).with_name("torchdrill")
    found = str(script) if script.exists() else shutil.which("torchdrill")
    if not found:
        pytest.skip("the torchdrill console script is not installed (pip install -e .)")
    return found


def tour_lines(heading: str) -> list[str]:
    """Command lines of the ```bash blocks between `### heading` and the next heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"### {heading}\n")
    end = min([i for i in (text.find("\n## ", start + 1), text.find("\n### ", start + 1)) if i > 0]
              or [len(text)])
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text[start:end], re.S):
        for line in block.splitlines():
            line = re.split(r"\s{2,}#|^\s*#", line)[0].strip()
            if line:
                lines.append(line)
    return lines


def run(args: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=240,
                          stdin=subprocess.DEVNULL)
    assert "Traceback" not in proc.stderr, (args, proc.stderr)
    return proc


def adapt(line: str, exe: str) -> list[str] | None:
    """The README line as argv for the installed script, or None where it is skipped."""
    if any(marker in line for marker in SKIPPED):
        return None
    argv = shlex.split(line.replace("path/to/submission", "work"))
    assert argv[0] == "torchdrill", line
    argv[0] = exe
    if argv[1] == "watch" and "--once" not in argv:
        argv.append("--once")
    if argv[1] in ("grade", "grade-many") and "--no-timing" not in argv:
        argv.append("--no-timing")
    return argv


@pytest.mark.slow
def test_readme_tours_through_the_console_script(tmp_path, practice_home):
    exe = console_script()
    env = dict(os.environ, TORCHDRILL_HOME=str(practice_home))
    env.pop("TORCHDRILL_ROOT", None)
    candidate, interviewer = tour_lines("Candidate"), tour_lines("Interviewer")
    assert any(line.startswith("torchdrill start conv2d --dir work") for line in candidate)
    assert any("path/to/submission" in line for line in interviewer)
    started, ran, skipped = time.monotonic(), [], []
    for line in candidate + interviewer:
        if line.startswith("$EDITOR"):
            shutil.copyfile(PROJECT / "solutions" / "conv2d" / "conv2d.py",
                            tmp_path / "work" / "conv2d" / "conv2d.py")
            skipped.append(line)
            continue
        argv = adapt(line, exe)
        if argv is None:
            skipped.append(line)
            continue
        if argv[1] == "grade-many":
            subs = tmp_path / "subs"
            if not subs.exists():       # "put one per candidate in subs/"
                shutil.copytree(tmp_path / "work", subs / "alice")
        began = time.monotonic()
        proc = run(argv, tmp_path, env)
        assert proc.returncode == 0, (line, proc.stdout[-2000:], proc.stderr[-2000:])
        ran.append((round(time.monotonic() - began, 1), line))
        if argv[1] == "start":
            manifest = json.loads((tmp_path / "work" / ".torchdrill.json").read_text())
            assert manifest["exercises"] == ["conv2d"]
        if argv[1] == "grade":
            assert "Score: 1 exercise: 10.00 / 10.00 (100.0%)" in proc.stdout, proc.stdout
        if argv[1] == "hint":
            assert "Hint 1 of" in proc.stdout and "more" in proc.stdout
        if argv[1] == "next":
            assert proc.stdout.startswith("Next: ") and "why:" in proc.stdout
    assert {"$EDITOR work/conv2d/conv2d.py"} <= set(skipped)
    for out in ("report.html", "progress.html", "result.json", "again.html", "junit.xml",
                "conv-kit.zip", "results/leaderboard.html"):
        assert (tmp_path / out).is_file(), out

    # From inside the work folder: every path argument is relative to the current folder.
    work = tmp_path / "work"
    for argv in ([exe, "check"], [exe, "watch", "--once"]):
        proc = run(argv, work, env)
        assert proc.returncode == 0, (argv, proc.stdout[-2000:], proc.stderr[-2000:])
        if argv[1] == "check":
            assert "1 of 1 exercise(s) pass" in proc.stdout

    # Every check and grade of the workspace went into the history; progress shows it.
    progress = run([exe, "progress"], tmp_path, env)
    assert progress.returncode == 0 and "conv2d" in progress.stdout
    row = next(r for r in progress.stdout.splitlines() if r.strip().startswith("conv2d "))
    assert "100%" in row and "1 of 3 hints seen" in row, row
    print(f"tour: {len(ran)} README commands + 3 more in {time.monotonic() - started:.1f} s; "
          f"skipped: {skipped}; seconds per README command: {ran}")
