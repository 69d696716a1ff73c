"""How much does isolated grading cost over running the same checks in one plain pytest?

    python benchmarks/grading.py                       # every exercise of the catalogue
    python benchmarks/grading.py --exercise conv2d --exercise conv-bn-fold --runs 7
    python benchmarks/grading.py --root tests/tiny_catalogue     # the one-exercise fixture

In one run, alternating the two sides of each pair (A B A B ...) after one warm-up each, and
reporting the median of --runs (hyperfine-style, in pure Python):

1. grading: `torchdrill grade SOLUTIONS --no-timing [--exercise ...]` (every exercise in its own
   isolated child, from the zygote) against ONE plain `python -m pytest` process over the same
   hidden checks: each exercise's reference files and test_hidden.py (renamed
   test_hidden_<slug>.py, so that the basenames differ) in a folder of their own, run with the
   grading child's pytest options (-p no:cacheprovider ... -p no:assertion, no plugin autoload)
   and its hypothesis profile (no deadline, no example database). Target: at most 1.3x.
2. start-up: `torchdrill list` against `python -c "import click, jinja2"`. Target: at most 2x.

Both sides use this interpreter (sys.executable) and its console script, so a shim (pyenv) in
PATH costs neither side anything. Every grade run is checked: the references must earn full
marks, or the figures are refused. --exercise builds a temporary catalogue with just those
exercises, so a half-written neighbour cannot break the run. Exit status 1 when a ratio is
over its target (with --strict) or a run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
GRADE_TARGET = 1.3
LIST_TARGET = 2.0
# The grading child's pytest options (grader/child.py), minus its own plugin.
PROFILE_PLUGIN = "torchdrill_bench_profile"
PYTEST_OPTIONS = ["--noconftest", "-p", "no:cacheprovider", "-p", "no:stepwise", "-p", "no:doctest",
                  "-p", "no:pastebin", "-p", "no:junitxml", "-p", "no:legacypath",
                  "-p", "no:assertion", "-p", "no:logging",
                  "-q", "--no-header", "-W", "ignore", "--import-mode=prepend"]


def torchdrill_command() -> list[str]:
    """The console script next to this interpreter (what `pip install` puts on PATH)."""
    script = Path(sys.executable).parent / "torchdrill"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "grader"]


def run_once(cmd: list[str], env: dict, cwd: Path | None = None, check=None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        tail = proc.stdout.decode(errors="replace").strip().splitlines()[-5:]
        raise SystemExit(f"benchmark: `{' '.join(map(str, cmd))}` failed "
                         f"(exit {proc.returncode}):\n  " + "\n  ".join(tail))
    if check:
        check()
    return elapsed


def compare(name: str, a: tuple, b: tuple, runs: int) -> dict:
    """Warm up each side once, then alternate A B A B ...; medians in seconds."""
    times = {"a": [], "b": []}
    run_once(*a)
    run_once(*b)
    for i in range(runs):
        if sys.stderr.isatty():
            print(f"  {name}: run {i + 1}/{runs}", end="\r", file=sys.stderr, flush=True)
        times["a"].append(run_once(*a))
        times["b"].append(run_once(*b))
    med_a, med_b = statistics.median(times["a"]), statistics.median(times["b"])
    return {"median_s": round(med_a, 3), "baseline_median_s": round(med_b, 3),
            "ratio": round(med_a / med_b, 3), "runs_s": [round(t, 3) for t in times["a"]],
            "baseline_runs_s": [round(t, 3) for t in times["b"]]}


def select_root(root: Path, slugs: list[str], work: Path) -> Path:
    """The catalogue to benchmark: `root`, or a copy holding only `slugs`."""
    if not slugs:
        return root
    sub = work / "catalogue"
    for slug in slugs:
        for part in ("exercises", "solutions"):
            src = root / part / slug
            if not src.is_dir():
                raise SystemExit(f"benchmark: {src}: no such exercise folder")
            shutil.copytree(src, sub / part / slug)
    return sub


def plain_pytest_folder(exercises, work: Path) -> tuple[Path, list[str]]:
    """One folder per exercise: reference files + test_hidden_<slug>.py (+ data/)."""
    folder = work / "plain"
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\n")
    # The grading child's hypothesis profile (no deadline, no database, no explain phase),
    # loaded with -p: without it the baseline would differ in more than isolation.
    (folder / f"{PROFILE_PLUGIN}.py").write_text(
        "from grader.pytest_plugin import _hypothesis_profile\n_hypothesis_profile()\n")
    tests, modules = [], {}
    for ex in exercises:
        name = ex.slug.replace("-", "_")
        here = folder / name
        here.mkdir()
        for file in ex.files:
            module = file.removesuffix(".py")
            if module in modules:
                raise SystemExit(f"benchmark: {ex.slug} and {modules[module]} both use a module "
                                 f"named {module}; one pytest process cannot import both")
            modules[module] = ex.slug
            shutil.copyfile(ex.solution_dir / file, here / file)
        shutil.copyfile(ex.hidden_tests, here / f"test_hidden_{name}.py")
        if (ex.solution_dir / "data").is_dir():
            shutil.copytree(ex.solution_dir / "data", here / "data")
        tests.append(str(here / f"test_hidden_{name}.py"))
    return folder, tests


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("TORCHDRILL_ROOT", PROJECT)),
                        help="folder holding exercises/ and solutions/ (default: the project)")
    parser.add_argument("--exercise", action="append", default=[], dest="slugs",
                        help="benchmark only this exercise (repeatable)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command (median)")
    parser.add_argument("-j", "--jobs", type=int, default=None,
                        help="passed to `torchdrill grade` (default: its own, the core count)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when over a target")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="torchdrill-bench-"))
    try:
        root = select_root(args.root.resolve(), args.slugs, work)
        env = dict(os.environ, TORCHDRILL_ROOT=str(root), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
        os.environ["TORCHDRILL_ROOT"] = str(root)
        from grader.catalogue import load_catalogue
        from grader.grading import missing_requirements
        exercises, skipped = [], []
        for ex in load_catalogue().values():
            (skipped if missing_requirements(ex) else exercises).append(ex)
        if any("triton" in ex.requires for ex in exercises):
            env["TRITON_INTERPRET"] = "1"      # as the grading child does on CPU
        if not exercises:
            raise SystemExit("benchmark: no exercise to grade")
        solutions = root / "solutions"
        td = torchdrill_command()
        result_json = work / "result.json"
        grade = td + ["grade", str(solutions), "--no-timing", "--json", str(result_json)]
        grade += [a for ex in exercises for a in ("--exercise", ex.slug)]
        if args.jobs:
            grade += ["-j", str(args.jobs)]
        folder, tests = plain_pytest_folder(exercises, work)
        plain = [sys.executable, "-m", "pytest", *tests, "-c", str(folder / "pytest.ini"),
                 "--rootdir", str(folder), "-p", PROFILE_PLUGIN, *PYTEST_OPTIONS]

        def full_marks():
            """Every check passed (the speed check is skipped: --no-timing)."""
            result = json.loads(result_json.read_text())
            short = [f"{e['slug']}: {c['id']} {c['outcome']}" for e in result["exercises"]
                     for c in e["checks"] if c["outcome"] != "passed"
                     and not (c["id"] == "timing::speed" and c["outcome"] == "skipped")]
            short += [f"{e['slug']}: {e['status']}" for e in result["exercises"]
                      if e["status"] != "graded"]
            if short:
                raise SystemExit("benchmark: the references do not pass every check: "
                                 + "; ".join(short[:10]))

        print(f"torchdrill grading benchmark: {len(exercises)} exercise(s) "
              f"[{', '.join(e.slug for e in exercises)}], median of {args.runs} runs, "
              f"{os.cpu_count()} CPU(s), Python {platform.python_version()}")
        if skipped:
            print(f"(left out, requirements not installed: {', '.join(e.slug for e in skipped)})")
        figures = {
            "grade": compare("grade", (grade, env, work, full_marks), (plain, env, folder), args.runs),
            "list": compare("list", (td + ["list"], env), ([sys.executable, "-c", "import click, jinja2"],
                                                          env), args.runs),
        }
        shown = ["torchdrill grade SOLUTIONS --no-timing"] + [f"--exercise {e.slug}" for e in exercises]
        figures["grade"].update(command=" ".join(shown + (["-j", str(args.jobs)] if args.jobs else [])),
                                baseline="python -m pytest <hidden checks of every exercise> "
                                         f"-p {PROFILE_PLUGIN} " + " ".join(PYTEST_OPTIONS),
                                target=GRADE_TARGET, exercises=[e.slug for e in exercises])
        figures["list"].update(command="torchdrill list",
                               baseline='python -c "import click, jinja2"', target=LIST_TARGET)
        over = False
        for key, label in (("grade", "grade --no-timing vs one plain pytest"),
                           ("list", "list vs import click, jinja2")):
            f = figures[key]
            ok = f["ratio"] <= f["target"]
            over |= not ok
            print(f"{label:<40} {f['median_s']:7.3f} s vs {f['baseline_median_s']:7.3f} s  "
                  f"ratio {f['ratio']:.2f}x  (target <= {f['target']:g}x: "
                  f"{'ok' if ok else 'OVER'})")
        if args.json:
            meta = {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "machine": platform.machine(), "runs": args.runs}
            args.json.write_text(json.dumps(dict(figures, meta=meta), indent=2) + "\n")
        return 1 if (over and args.strict) else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
