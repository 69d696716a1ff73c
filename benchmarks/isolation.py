"""What do the OS walls cost? Grading with --isolation namespaces against --isolation process.

    python benchmarks/isolation.py                 # the whole catalogue, and the four light exercises
    python benchmarks/isolation.py --runs 5 --only light

In one run, alternating the sides of each pair (A B A B ...) after one warm-up each, the median
of --runs wall-clock seconds of:

1. `torchdrill grade solutions --no-timing --isolation namespaces` against the same with
   `--isolation process`, over the whole catalogue. Target: at most 1.10x.
2. `torchdrill grade solutions --no-timing --isolation namespaces` of the four light exercises
   (conv-output-shape, conv2d-fix, separable-conv, conv-bn-fold) against one bare
   `python -c "import torch"`. Target: at most 2.5x.

Every grade must give the references full marks, or the figures are refused. Exit status 1 when
a ratio is over its target (with --strict) or a run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
LIGHT = ("conv-output-shape", "conv2d-fix", "separable-conv", "conv-bn-fold")
TARGETS = {"catalogue": 1.10, "light": 2.5}
CONSOLE = str(Path(sys.executable).with_name("torchdrill"))


def grade(isolation: str, slugs=(), out: Path | None = None) -> float:
    out = out or Path(tempfile.mkdtemp()) / "r.json"
    cmd = [CONSOLE, "grade", str(PROJECT / "solutions"), "--no-timing", "--isolation", isolation,
           "--json", str(out)] + [a for s in slugs for a in ("--exercise", s)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=PROJECT)
    seconds = time.perf_counter() - start
    result = json.loads(out.read_text())
    if result["environment"].get("isolation") != isolation:
        raise SystemExit(f"asked for {isolation}, graded with {result['environment'].get('isolation')}")
    for ex in result["exercises"]:
        speed = sum(c["points"] for c in ex["checks"] if c["id"] == "timing::speed")
        if ex["max_score"] and ex["score"] < ex["max_score"] - speed - 1e-9:
            raise SystemExit(f"{ex['slug']}: the reference earned {ex['score']} of {ex['max_score']}")
    return seconds


def import_torch() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.perf_counter() - start


def pair(a, b, runs: int) -> tuple[float, float]:
    a(), b()                                          # warm-up: page cache, pyc files
    xs, ys = [], []
    for _ in range(runs):
        xs.append(a())
        ys.append(b())
    return statistics.median(xs), statistics.median(ys)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--only", choices=sorted(TARGETS), help="one of the two pairs")
    args = parser.parse_args(argv)
    os.environ.pop("TORCHDRILL_ROOT", None)
    print(f"{os.cpu_count()} cores, python {sys.version.split()[0]}, {args.runs} runs each, medians")
    rows = []
    if args.only in (None, "catalogue"):
        walled, plain = pair(lambda: grade("namespaces"), lambda: grade("process"), args.runs)
        rows.append(("catalogue", "namespaces vs process", walled, plain))
    if args.only in (None, "light"):
        light, bare = pair(lambda: grade("namespaces", LIGHT), import_torch, args.runs)
        rows.append(("light", "4 light exercises (namespaces) vs python -c 'import torch'", light, bare))
    missed = False
    for key, what, a, b in rows:
        ratio = a / b
        ok = ratio <= TARGETS[key]
        missed |= not ok
        print(f"{what}: {a:.2f} s vs {b:.2f} s = {ratio:.2f}x (target {TARGETS[key]:.2f}x) "
              f"{'ok' if ok else 'MISSED'}")
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
