"""data-parallel-step's ranks are forked from the grading child and inherit its sandbox."""

from __future__ import annotations

import json
import os
import sys
import threading
import time

import torch
import torch.nn.functional as F

from grader.catalogue import solutions_dir
from grader.exercise_support import dp_ranks

from conftest import invoke

# An honest all_reduce step, but only when the rank can read the reference solution; the
# loss it returns says what the read did. Were the ranks unsandboxed, it would earn full marks;
# sandboxed, its steps change nothing.
PEEK = '''
import torch.distributed as dist

def dp_train_step(model, inputs, targets, loss_fn, optimizer):
    try:
        with open({reference!r}) as fh:
            fh.read()
    except BaseException as exc:
        return "refused: " + type(exc).__name__
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= dist.get_world_size()
    optimizer.step()
    value = loss.detach().clone()
    dist.all_reduce(value)
    return value.item() / dist.get_world_size()
'''


def test_ranks_are_forked_unless_another_thread_runs(monkeypatch):
    """(This test process may have threads left by earlier tests: the count is what decides.)"""
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert dp_ranks._start_method() == ("fork" if sys.platform.startswith("linux") else "spawn")
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert dp_ranks._start_method() == "spawn"


def test_a_forked_rank_survives_the_parents_openmp_pool():
    """GNU OpenMP does not survive fork: a copy of a process whose pool ran hangs in its first
    parallel op. Each rank therefore sets one thread before anything else; proven here."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        x, w = torch.randn(4, 8, 32, 32), torch.randn(8, 8, 3, 3)
        F.conv2d(x, w)                               # the pool has run
        pid = os.fork()
        if pid == 0:                                 # what _run_rank does first
            torch.set_num_threads(1)
            F.conv2d(x, w)
            os._exit(0)
        deadline = time.monotonic() + 60
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if not done:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        assert done and status == 0, "the forked copy hung in its first parallel op"
    finally:
        torch.set_num_threads(threads)


def test_a_rank_cannot_read_the_reference(real_root, tmp_path):
    sub = tmp_path / "sub" / "data-parallel-step"
    sub.mkdir(parents=True)
    reference = solutions_dir() / "data-parallel-step" / "dp_step.py"
    (sub / "dp_step.py").write_text(PEEK.format(reference=str(reference)))
    out = tmp_path / "result.json"
    res = invoke("grade", sub.parent, "--exercise", "data-parallel-step", "--no-timing",
                 "--json", out)
    assert res.exit_code in (0, 1), res.output
    ex = json.loads(out.read_text())["exercises"][0]
    passed = {c["name"] for c in ex["checks"] if c["outcome"] == "passed"}
    assert passed <= {"every rank ends with the same weights"}, passed   # a no-op step keeps that
    messages = " ".join(c["message"] for c in ex["checks"])
    assert "refused: PermissionError" in messages, messages[:2000]


def test_forked_and_spawned_ranks_agree(monkeypatch):
    """The spawn fallback (another thread running, not Linux) plays the same scenario the same way."""
    monkeypatch.syspath_prepend(str(solutions_dir() / "data-parallel-step"))
    scenario = {"name": "two steps", "loss": "ce", "optimizer": "adam", "steps": 2, "seed": 7,
                "d_in": 3, "hidden": 4, "d_out": 2, "local_batch": 2}
    runs = {}
    for method in ("fork", "spawn"):
        monkeypatch.setattr(dp_ranks, "_start_method", lambda: method)
        run = dp_ranks.run_ranks("dp_step", 2, [scenario])
        assert not run.errors and not run.problem, (method, run.errors, run.problem)
        runs[method] = run.results
    assert runs["fork"].keys() == runs["spawn"].keys() == {("two steps", 0), ("two steps", 1)}
    for key, got in runs["fork"].items():
        want = runs["spawn"][key]
        assert got["losses"] == want["losses"]
        assert all(got["params"][n].equal(want["params"][n]) for n in want["params"])
