"""Statistics over the samples of one side: median, IQR, min, mean, relative standard error."""

from __future__ import annotations

import math
import statistics


# ------------------------------------------------------------------------------------ statistics

def summarize(times_ms: list[float]) -> dict:
    """median, IQR, min, mean and runs of per-call times in milliseconds."""
    xs = sorted(times_ms)
    if not xs:
        return {"median": None, "iqr": None, "min": None, "mean": None, "runs": 0}
    if len(xs) >= 2:
        q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    else:
        q1 = q3 = xs[0]
    return {"median": statistics.median(xs), "iqr": q3 - q1, "min": xs[0],
            "mean": statistics.fmean(xs), "runs": len(xs)}


def rel_stderr(times: list[float]) -> float:
    if len(times) < 2:
        return math.inf
    mean = statistics.fmean(times)
    return statistics.stdev(times) / math.sqrt(len(times)) / mean if mean > 0 else math.inf
