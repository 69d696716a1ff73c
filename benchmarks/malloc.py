"""Does a timing figure depend on what ran before it? glibc's dynamic mmap threshold, measured.

    python benchmarks/malloc.py                 # 5 rounds, F.conv2d 8x64x28x28 with a 64x64x3x3 kernel
    python benchmarks/malloc.py --rounds 9 --threads 1

Each round starts four fresh processes, one after the other, that time the same F.conv2d (the
median of 60 calls after 10 warm-ups, torch.set_num_threads(--threads)):
  fresh         nothing ran before
  warmed        a 64 MiB tensor was allocated and freed first (raises glibc's threshold)
  fresh+pin     grader.timing.allocator.pin_malloc() first, as every timing child does
  warmed+pin    pin_malloc(), then the 64 MiB tensor
and prints, per variant, the median over rounds, then the two ratios that matter:
warmed / fresh (the history effect without pinning) and warmed+pin / fresh+pin (with it;
target: within 10 %, i.e. 0.90 .. 1.10). One run, ratios only: this machine is noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
pin, warm, threads = {pin}, {warm}, {threads}
if pin:
    from grader.timing.allocator import pin_malloc
    pin_malloc()
import torch
import torch.nn.functional as F
torch.set_num_threads(threads)
if warm:
    big = torch.empty(16 << 20)   # 64 MiB, touched then freed
    big.fill_(1.0)
    del big
x, w = torch.randn(8, 64, 28, 28), torch.randn(64, 64, 3, 3)
for _ in range(10):
    F.conv2d(x, w, padding=1)
times = []
for _ in range(60):
    t = time.perf_counter()
    F.conv2d(x, w, padding=1)
    times.append(time.perf_counter() - t)
times.sort()
print(json.dumps(times[len(times) // 2] * 1e3))
"""

VARIANTS = {"fresh": (False, False), "warmed": (False, True),
            "fresh+pin": (True, False), "warmed+pin": (True, True)}


def one(pin: bool, warm: bool, threads: int) -> float:
    code = CHILD.format(root=str(ROOT), pin=pin, warm=warm, threads=threads)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()
    ms = {name: [] for name in VARIANTS}
    for r in range(args.rounds):
        for name, (pin, warm) in VARIANTS.items():
            ms[name].append(one(pin, warm, args.threads))
        print(f"round {r + 1}: " + ", ".join(f"{n} {v[-1]:.3f} ms" for n, v in ms.items()),
              file=sys.stderr)
    med = {name: statistics.median(v) for name, v in ms.items()}
    for name, value in med.items():
        print(f"{name:<11} {value:8.3f} ms (median of {args.rounds} processes)")
    unpinned, pinned = med["warmed"] / med["fresh"], med["warmed+pin"] / med["fresh+pin"]
    print(f"warmed / fresh, unpinned: {unpinned:.2f}")
    print(f"warmed / fresh, pinned:   {pinned:.2f}  (target 0.90 .. 1.10: "
          f"{'met' if 0.9 <= pinned <= 1.1 else 'NOT met'})")
    if args.json:
        Path(args.json).write_text(json.dumps({"ms": ms, "median_ms": med, "unpinned": unpinned,
                                               "pinned": pinned}, indent=2) + "\n")


if __name__ == "__main__":
    main()
