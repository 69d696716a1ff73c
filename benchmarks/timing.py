"""How good is the grader's timer? Compare it with torch.utils.benchmark (and, on CUDA, with
triton.testing.do_bench) on the same kernels, in one run, several times over.

    python benchmarks/timing.py                    # CPU, 5 repeats, all kernels
    python benchmarks/timing.py --repeats 3 --kernels conv-resnet56 --json out.json
    python benchmarks/timing.py --device cuda      # adds do_bench (needs a GPU and triton)
    python benchmarks/timing.py --exercise fast-conv2d   # where do the solutions land?

For each kernel and each repeat it runs, one after the other in the same process:
  grader   grader.timing.time_exercise with the kernel as *both* candidate and reference
           (so it also measures the noise in the speed-up a grading would see: ideally 1.00)
  tub      torch.utils.benchmark.Timer(num_threads=threads).blocked_autorange(min_run_time)
  do_bench triton.testing.do_bench (CUDA only)
and prints, per kernel: the median over repeats of each method's median, the ratio
grader / tub (target: within 15 %), the spread max/min of the grader's medians across repeats
(target: under 10 %), and the range of the candidate-vs-itself speed-up.

With --exercise SLUG it instead grades the speed of every solution of a timed exercise (the
reference, each alt/*.py, and the PyTorch reference itself as a candidate) exactly as the
grading child does (time_exercise + speed_share), --repeats times, and prints the rows, the
geometric-mean slowdown and the share of the speed points each one earns.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from torch.utils.benchmark import Timer  # noqa: E402

from grader import timing  # noqa: E402
from grader.catalogue import Timing, TimingCase  # noqa: E402

CONV_FLOPS = "2 * N * K * Cg * R * S * P * Q"
# name -> (reference dotted path, case params, flops expression)
KERNELS = {
    "conv-resnet56": ("torch.nn.functional.conv2d",
                      {"input": [8, 64, 56, 56], "weight": [64, 64, 3, 3], "padding": 1},
                      CONV_FLOPS),
    "conv-resnet28": ("torch.nn.functional.conv2d",
                      {"input": [8, 64, 28, 28], "weight": [64, 64, 3, 3], "bias": True,
                       "padding": 1}, CONV_FLOPS),
    "matmul-1024": ("torch.matmul", {"a": [1024, 1024], "b": [1024, 1024]},
                    "2 * a[0] * a[1] * b[1]"),
    "bias-relu": ("grader.timing.bias_relu", {"x": [8, 64, 56, 56], "bias": [64]},
                  "2 * N * C * H * W"),
}


def grader_time(name: str, device: str, threads: int, budget_s: float) -> dict:
    reference, params, flops = KERNELS[name]
    spec = Timing(entry="kernel", reference=reference, cases=(TimingCase(name, params),),
                  flops=flops, tiers=timing.DEFAULT_TIERS, speed_points=1)
    module = types.SimpleNamespace(kernel=timing.resolve(reference))
    (row,) = timing.time_exercise(spec, module, device=device, threads=threads,
                                  budget_s=budget_s)
    if row.get("error"):
        raise RuntimeError(f"{name}: {row['error']}")
    return row


def inputs(name: str, device: str):
    _, params, _ = KERNELS[name]
    gen = torch.Generator().manual_seed(0)
    return timing.case_inputs(params, device, gen)


def tub_time(name: str, device: str, threads: int, min_run_time: float) -> float:
    fn = timing.resolve(KERNELS[name][0])
    args, kwargs = inputs(name, device)
    timer = Timer(stmt="fn(*args, **kwargs)", num_threads=threads,
                  globals={"fn": fn, "args": args, "kwargs": kwargs})
    with torch.no_grad():
        return timer.blocked_autorange(min_run_time=min_run_time).median * 1e3


def do_bench_time(name: str) -> float | None:
    try:
        from triton.testing import do_bench
    except ImportError:
        return None
    fn = timing.resolve(KERNELS[name][0])
    args, kwargs = inputs(name, "cuda")
    with torch.no_grad():
        return float(do_bench(lambda: fn(*args, **kwargs), return_mode="median"))


def load_module(path: Path, name: str):
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def exercise_report(slug: str, device: str, threads: int, repeats: int, budget,
                    idle: bool = False) -> int:
    """Time every solution of `slug` the way the grading child does."""
    from grader.catalogue import load_exercise, project_root
    root = project_root()
    exercise = load_exercise(root / "exercises" / slug)
    spec = exercise.timing
    if spec is None:
        print(f"{slug} has no [timing] table")
        return 2
    reason = timing.skip_reason(exercise.requires, device)
    if reason:
        print(f"{slug}: not timed on {device}: {reason}")
        return 0
    module_file = exercise.files[0]
    solutions = root / "solutions" / slug
    candidates = [("reference", solutions / module_file)]
    candidates += [(f"alt/{p.name}", p) for p in sorted((solutions / "alt").glob("*.py"))]
    print(f"{slug} on {device}, {threads} threads, tiers {list(spec.tiers)}, "
          f"{spec.speed_points} speed points; load average {os.getloadavg()[0]:.2f}")
    entries = [(label, load_module(path, f"bench_{i}"))
               for i, (label, path) in enumerate(candidates)]
    entries.append(("pytorch itself", types.SimpleNamespace(
        **{spec.entry: timing.resolve(spec.reference)})))
    for label, module in entries:
        for _ in range(repeats):
            if idle:
                wait_idle()
            t0 = time.perf_counter()
            rows = timing.time_exercise(spec, module, device=device, threads=threads,
                                        budget_s=budget)
            share = timing.speed_share(rows, spec.tiers)
            cases = ", ".join(
                f"{r['case']} {r['candidate_ms']:.3f}/{r['reference_ms']:.3f} ms"
                if r.get("candidate_ms") and r.get("reference_ms")
                else f"{r['case']} error: {r.get('error', '?')[:80]}" for r in rows)
            print(f"  {label:<18} slowdown {timing.geomean_slowdown(rows):7.2f}x  "
                  f"share {share:.2f}  ({time.perf_counter() - t0:.1f} s)  {cases}", flush=True)
    return 0


def cpu_idle(seconds: float = 3.0) -> float | None:
    """Share of CPU time spent idle over `seconds` (Linux /proc/stat), None elsewhere."""
    def sample():
        with open("/proc/stat") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields)
    try:
        idle0, total0 = sample()
        time.sleep(seconds)
        idle1, total1 = sample()
    except OSError:
        return None
    return (idle1 - idle0) / max(total1 - total0, 1)


def wait_idle(threshold: float = 0.9, limit_s: float = 1800.0) -> float | None:
    """Block until the machine is at least `threshold` idle (a shared box: timings taken while
    other work runs are noise). Gives up after `limit_s` and returns the last reading."""
    deadline = time.monotonic() + limit_s
    while True:
        idle = cpu_idle()
        if idle is None or idle >= threshold or time.monotonic() > deadline:
            return idle


def _busy_seconds() -> float | None:
    """CPU seconds all processes have spent busy (Linux /proc/stat), None elsewhere."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except OSError:
        return None
    busy = sum(fields[:8]) - fields[3] - fields[4]          # all but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def others_load(fn):
    """(fn(), share of the machine's CPU time that *other* processes used while fn ran)."""
    b0, t0, c0 = _busy_seconds(), time.perf_counter(), time.process_time()
    result = fn()
    b1, t1, c1 = _busy_seconds(), time.perf_counter(), time.process_time()
    if b0 is None:
        return result, None
    others = max(0.0, (b1 - b0) - (c1 - c0))
    return result, others / ((t1 - t0) * (os.cpu_count() or 1))


def spread(values) -> float:
    values = [v for v in values if v]
    return max(values) / min(values) - 1 if values else float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Compare the grader's timer with torch.utils.benchmark (and do_bench).")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=float, default=None,
                        help="grader budget per case, seconds (default: the grader's)")
    parser.add_argument("--min-run-time", type=float, default=1.0,
                        help="torch.utils.benchmark min_run_time, seconds")
    parser.add_argument("--kernels", nargs="*", default=list(KERNELS), choices=list(KERNELS))
    parser.add_argument("--json", type=Path, help="write the raw numbers here")
    parser.add_argument("--wait-idle", action="store_true",
                        help="before each measurement, wait until the CPUs are 90%% idle")
    parser.add_argument("--attempts", type=int, default=1,
                        help="measure a kernel again (up to this many times) when other "
                             "processes used over 5%% of the CPUs meanwhile")
    parser.add_argument("--exercise", metavar="SLUG",
                        help="time the solutions of a timed exercise instead")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda needs a GPU")
    if args.exercise:
        return exercise_report(args.exercise, args.device, args.threads, args.repeats,
                               args.budget, args.wait_idle)

    raw = {k: {"grader": [], "grader_ref": [], "speedup": [], "tub": [], "do_bench": []}
           for k in args.kernels}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(f"torch {torch.__version__}, device {args.device}, threads {args.threads}, "
          f"{os.cpu_count()} cores, load average {load:.2f}" if load is not None else "")
    start = time.perf_counter()
    for rep in range(args.repeats):
        for name in args.kernels:
            for attempt in range(1, args.attempts + 1):
                if args.wait_idle:
                    wait_idle()
                (row, tub), others = others_load(lambda name=name: (
                    grader_time(name, args.device, args.threads, args.budget),
                    tub_time(name, args.device, args.threads, args.min_run_time)))
                if others is None or others <= 0.05 or attempt == args.attempts:
                    break
                print(f"  repeat {rep + 1} {name}: other processes used {others:.0%} of the "
                      "CPUs meanwhile; measuring again", flush=True)
            raw[name]["grader"].append(row["candidate_ms"])
            raw[name]["grader_ref"].append(row["reference_ms"])
            raw[name]["speedup"].append(row["speedup"])
            raw[name]["tub"].append(tub)
            raw[name].setdefault("others", []).append(others)
            if args.device == "cuda":
                raw[name]["do_bench"].append(do_bench_time(name))
            busy = f", others {others:.0%}" if others is not None else ""
            print(f"  repeat {rep + 1}/{args.repeats} {name}: grader {row['candidate_ms']:.3f} ms"
                  f" (itself as reference {row['reference_ms']:.3f} ms), "
                  f"tub {tub:.3f} ms{busy}", flush=True)

    header = ("| kernel | grader median ms | tub median ms | grader / tub | grader spread "
              "| tub spread | speed-up of itself (min..max) |")
    if args.device == "cuda":
        header += " do_bench ms | grader / do_bench |"
    print()
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    summary = {}
    for name in args.kernels:
        r = raw[name]
        g, t = statistics.median(r["grader"]), statistics.median(r["tub"])
        line = (f"| {name} | {g:.3f} | {t:.3f} | {g / t:.3f} | {spread(r['grader']):.1%} "
                f"| {spread(r['tub']):.1%} | {min(r['speedup']):.3f}..{max(r['speedup']):.3f} |")
        summary[name] = {"grader_ms": g, "tub_ms": t, "ratio": g / t,
                         "grader_spread": spread(r["grader"]), "tub_spread": spread(r["tub"])}
        if args.device == "cuda":
            db = [v for v in r["do_bench"] if v]
            d = statistics.median(db) if db else None
            line += (f" {d:.3f} | {g / d:.3f} |" if d else " n/a | n/a |")
            summary[name]["do_bench_ms"] = d
        print(line)
    print(f"\n{args.repeats} repeats in {time.perf_counter() - start:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                         "raw": raw, "summary": summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
