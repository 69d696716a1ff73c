"""Is `torchdrill check SLUG` as quick as running that exercise's public tests by hand?

    python benchmarks/check.py                     # conv2d, 7 pairs
    python benchmarks/check.py --exercise conv-bn-fold --runs 9 --solution

Starts the exercise into a temporary work folder (with --solution, the reference is copied in,
so the tests pass; default: the untouched stub, the candidate's first `check`), then alternates
(A B A B ..., after one warm-up each) between

  A: `torchdrill check SLUG --dir WORK` (the console script beside sys.executable), and
  B: `python -m pytest -q -p no:cacheprovider <the public tests>` in WORK/SLUG,

and prints the median wall-clock time of each and their ratio. Target: at most 1.5x. Both runs
use a temporary TORCHDRILL_HOME, so `check` records into a throw-away history. Exit status 1
when the ratio is over the target (with --strict) or a run's exit status differs between A and B.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1.5
ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str], cwd: Path, env: dict) -> tuple[float, int]:
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started, proc.returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exercise", default="conv2d")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--solution", action="store_true", help="copy the reference in first")
    parser.add_argument("--strict", action="store_true", help=f"exit 1 over {TARGET}x")
    args = parser.parse_args(argv)
    exe = Path(sys.executable).with_name("torchdrill")
    if not exe.exists():
        exe = Path(shutil.which("torchdrill") or "torchdrill")
    tmp = Path(tempfile.mkdtemp(prefix="torchdrill-bench-check-"))
    env = dict(os.environ, TORCHDRILL_HOME=str(tmp / "home"), PYTHONDONTWRITEBYTECODE="1")
    try:
        subprocess.run([str(exe), "start", args.exercise, "--dir", "work"], cwd=tmp, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        folder = tmp / "work" / args.exercise
        if args.solution:
            for src in (ROOT / "solutions" / args.exercise).glob("*.py"):
                if not src.name.startswith("test_"):
                    shutil.copyfile(src, folder / src.name)
        tests = sorted(p.name for p in folder.glob("test_*.py"))
        a = [str(exe), "check", args.exercise, "--dir", "work"]
        b = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
        timed(a, tmp, env), timed(b, folder, env)              # warm-up: page cache, .pyc
        times_a, times_b, codes = [], [], set()
        for _ in range(args.runs):
            for side, cmd, cwd in (("a", a, tmp), ("b", b, folder)):
                seconds, code = timed(cmd, cwd, env)
                (times_a if side == "a" else times_b).append(seconds)
                codes.add((side, code))
        med_a, med_b = statistics.median(times_a), statistics.median(times_b)
        ratio = med_a / med_b
        print(f"{args.exercise} ({'solution' if args.solution else 'stub'}), {args.runs} pairs, "
              f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"  torchdrill check : median {med_a:.2f} s  (min {min(times_a):.2f}, max {max(times_a):.2f})")
        print(f"  python -m pytest : median {med_b:.2f} s  (min {min(times_b):.2f}, max {max(times_b):.2f})")
        print(f"  ratio            : {ratio:.2f}x (target <= {TARGET}x)")
        exit_a = {c for s, c in codes if s == "a"}
        exit_b = {c for s, c in codes if s == "b"}
        # pytest exits 1 on failing tests; check exits 1 when an exercise fails: they must agree.
        if exit_a != exit_b:
            print(f"  exit statuses differ: check {sorted(exit_a)}, pytest {sorted(exit_b)}")
            return 1
        return 1 if args.strict and ratio > TARGET else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
