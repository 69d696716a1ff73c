"""Where candidates are graded: a local thread pool, or a dask cluster.

An executor receives the work function (`batch.grade_payload`) and its argument tuples
(payload, options): the submission as data and plain options, never a path to read. It calls
`on_start(name)` as a candidate starts (when it can tell) and `on_done(outcome)` as each
finishes ({"row", "json", "html"}: the client writes OUT/), and returns the outcomes. Keyword
arguments: catalogue ((hash, root) of the client's catalogue), notice (a one-line message
callback), and the executor's own (dask: scheduler). Executors never import the batch: the
work comes to them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed


def run_local(work, tasks: list[tuple[dict, dict]], jobs: int, on_done, on_start=None, *,
              catalogue=None, notice=None) -> list[dict]:
    """Threads: each call of `work` spends its time waiting on its grading children. They grade
    with this process's catalogue, the one the batch hashed (`catalogue` is not needed)."""
    def one(task):
        if on_start:
            on_start(task[1]["name"])
        return work(*task)

    rows = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(one, task): task for task in tasks}
        for future in as_completed(futures):
            row = future.result()
            rows.append(row)
            on_done(row)
    return rows


def run_dask(work, tasks, jobs, on_done, on_start=None, **executor_options):
    """One dask task per candidate (batch/dask_executor.py; needs the "cluster" extra)."""
    from grader.batch import dask_executor
    return dask_executor.run(work, tasks, jobs, on_done, on_start, **executor_options)


EXECUTORS = {"local": run_local, "dask": run_dask}
