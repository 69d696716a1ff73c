"""How long does the similarity report of a large batch take (200 candidates x 3 exercises x ~100 lines)?"""

#     python benchmarks/similarity_bench.py [--candidates 200] [--runs 3]
#
# Synthetic candidates: for each exercise, each candidate's file is three solutions of that
# exercise (reference, alternatives, the wrong/ variants), each disguised with its own seed by
# tests/test_similarity.py's disguise(), so that every file is different and ~100 lines long,
# like a real submission with a helper or two. Fake results give each candidate 20 failed
# checks drawn from a small pool of messages, so the behaviour signal has groups to pair.
# Prints the median wall and CPU seconds of similarity_report() and of its parts.

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ("conv2d", "conv2d-backward", "fast-conv2d")


def _load(name: str, relative: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def build(candidates: int, seed: int = 0):
    tests = _load("_similarity_tests", "tests/test_similarity.py")
    sim = tests.sim
    by_slug = {ex["slug"]: ex for ex in tests.EXERCISES}
    rng = random.Random(seed)
    submissions: dict[str, dict[str, str]] = {}
    results: dict[str, dict] = {}
    for i in range(candidates):
        name = f"cand{i:03d}"
        submissions[name], exercises = {}, []
        for slug in EXERCISES:
            ex = by_slug[slug]
            pool = [ex["reference"], *ex["alts"].values(), *ex["wrong"].values()]
            submissions[name][slug] = "".join(tests.disguise(src, ex["stub"], seed=rng.random())
                                              for src in rng.sample(pool, 3))
            checks = [{"id": f"test_hidden.py::t{j}", "outcome": "failed",
                       "message": f"returned {rng.randrange(40)}; expected {j}"}
                      for j in range(20)]
            exercises.append({"slug": slug, "status": "graded", "checks": checks})
        results[name] = {"exercises": exercises}
    stubs = {slug: by_slug[slug]["stub"] for slug in EXERCISES}
    return sim, submissions, results, stubs


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    sim, submissions, results, stubs = build(args.candidates)
    view = _load("_similarity_view", "grader/report/similarity_view.py")
    lines = sum(src.count("\n") for subs in submissions.values() for src in subs.values())
    files = sum(len(subs) for subs in submissions.values())
    print(f"{args.candidates} candidates x {len(EXERCISES)} exercises: {files} files, "
          f"{lines / files:.0f} lines per file on average, {lines} lines in all")
    sources = [src for subs in submissions.values() for src in subs.values()]
    tokens = [sim.normalise(s) for s in sources]
    pairs = sim.similarity_report(submissions, results, stubs)
    with tempfile.TemporaryDirectory(prefix="similarity-bench-") as tmp:
        parts = {
            "normalise (tokenize)": lambda: [sim.normalise(s) for s in sources],
            "  same, pure-Python tokenize": lambda: [sim.normalise(s, fast=False) for s in sources],
            "k-gram hashes + winnow": lambda: [sim.winnow(sim.kgram_hashes(t)) for t in tokens],
            "behaviour_signal": lambda: sim.behaviour_signal(results),
            "similarity_report (all of it)": lambda: sim.similarity_report(submissions, results,
                                                                           stubs),
            "write_csv (every pair)": lambda: sim.write_csv(pairs, Path(tmp) / "similarity.csv"),
            "render_similarity_html": lambda: view.render_similarity_html(pairs, submissions,
                                                                          sim.THRESHOLD),
            "similar_to": lambda: sim.similar_to(pairs, sim.THRESHOLD),
        }
        for label, fn in parts.items():
            walls, cpus = zip(*(_timed(fn) for _ in range(args.runs)))
            print(f"  {label:30s} {statistics.median(walls):6.2f} s wall "
                  f"{statistics.median(cpus):6.2f} s cpu")
    flagged = [p for p in pairs if p.score >= sim.THRESHOLD]
    print(f"  {len(pairs)} pairs, {len(flagged)} at or above the threshold {sim.THRESHOLD}"
          " (most files here are disguised copies of a handful of solutions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
