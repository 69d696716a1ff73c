"""Throughput of grade-many: the local executor against a dask scheduler with two local workers.

    python benchmarks/cluster.py                      # 24 tiny candidates, tests/tiny_catalogue
    python benchmarks/cluster.py --candidates 48 --runs 3

The same batch (copies of the fixture submissions full and partial, folders and zips) is
graded `--no-timing` by:
1. `torchdrill grade-many SUBS --out OUT -j 2` (the local executor, two at once);
2. `torchdrill grade-many ... --executor dask --scheduler ADDR -j 1` against a `dask scheduler`
   and two `dask worker --nthreads 1 --no-nanny` processes started by hand, without
   TORCHDRILL_ROOT and with their own TORCHDRILL_CACHE, so the catalogue is shipped to them.
   The first dask batch is "cold" (each worker receives the catalogue and starts its zygote),
   the later ones "warm" (both survive in the worker process between batches).
Reported: wall time and candidates per minute, the median of --runs for the local and warm rows.
Both sides use the same cores, so the figures compare the executors' overheads, not machines.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
FIXTURES = PROJECT / "tests" / "fixtures"


def make_subs(folder: Path, count: int) -> None:
    folder.mkdir()
    for i in range(count):
        fixture = ("full", "partial")[i % 2]
        source = (FIXTURES / fixture / "tiny" / "tiny.py").read_text()
        if i % 3 == 2:
            with zipfile.ZipFile(folder / f"c{i:03d}.zip", "w") as zf:
                zf.writestr("tiny/tiny.py", source)
        else:
            (folder / f"c{i:03d}" / "tiny").mkdir(parents=True)
            (folder / f"c{i:03d}" / "tiny" / "tiny.py").write_text(source)


def grade_many(subs: Path, out: Path, env: dict, *extra: str) -> float:
    argv = [sys.executable, "-m", "grader", "grade-many", str(subs), "--out", str(out),
            "--no-timing", *extra]
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if proc.returncode:
        sys.exit(f"grade-many failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return seconds


def start_cluster(tmp: Path, env: dict) -> tuple[str, list[subprocess.Popen]]:
    worker_env = {k: v for k, v in env.items() if k != "TORCHDRILL_ROOT"}
    sched_file = tmp / "scheduler.json"
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host",
                               "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
                               str(sched_file)], env=env, cwd=tmp, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    while not sched_file.exists():
        time.sleep(0.1)
    time.sleep(0.2)
    address = json.loads(sched_file.read_text())["address"]
    for i in range(2):
        (tmp / f"w{i}").mkdir()
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--host", "127.0.0.1",
             "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"w{i}"],
            env=dict(worker_env, TORCHDRILL_CACHE=str(tmp / f"w{i}" / "cache")), cwd=tmp / f"w{i}",
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    import distributed
    with distributed.Client(address, timeout=60) as client:
        client.wait_for_workers(2, timeout=120)
    return address, procs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=24)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--root", default=str(PROJECT / "tests" / "tiny_catalogue"))
    args = parser.parse_args()
    env = dict(os.environ, TORCHDRILL_ROOT=str(Path(args.root).resolve()))
    tmp = Path(tempfile.mkdtemp(prefix="torchdrill-bench-cluster-"))
    procs = []
    try:
        subs = tmp / "subs"
        make_subs(subs, args.candidates)
        address, procs = start_cluster(tmp, env)
        rows = {"local": [], "dask cold": [], "dask warm": []}
        run = 0
        for i in range(args.runs + 1):        # one cold dask batch, then alternate
            run += 1
            key = "dask cold" if i == 0 else "dask warm"
            rows[key].append(grade_many(subs, tmp / f"out{run}", env, "--executor", "dask",
                                        "--scheduler", address, "-j", "1"))
            if i < args.runs:
                run += 1
                rows["local"].append(grade_many(subs, tmp / f"out{run}", env, "-j", "2"))
        try:
            load = os.getloadavg()[0]
        except OSError:
            load = float("nan")
        print(f"{args.candidates} candidates, {os.cpu_count()} cores, load {load:.1f}")
        print("| executor | wall (median) | candidates/min |")
        print("|---|---|---|")
        for key, times in rows.items():
            if times:
                median = statistics.median(times)
                print(f"| {key} | {median:.1f} s | {args.candidates * 60 / median:.1f} |")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
