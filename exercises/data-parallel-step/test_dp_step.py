"""Public sample tests for dp_step.dp_train_step: real gloo process groups on this machine.

Run: pytest test_dp_step.py
"""

import datetime
import multiprocessing
import os
import sys
import tempfile

import pytest
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from dp_step import dp_train_step

LOCAL_BATCH = 4


def make_model_and_data(world_size):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(world_size * LOCAL_BATCH, 3, generator=gen)
    y = torch.randn(world_size * LOCAL_BATCH, 2, generator=gen)
    return model, x, y


def worker(rank, world_size, store, results):
    """One rank: joins the group, takes its shard, runs one step, reports back."""
    torch.set_num_threads(1)                     # tiny tensors; and safe in a forked copy
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank,
                            world_size=world_size, timeout=datetime.timedelta(seconds=20))
    try:
        model, x, y = make_model_and_data(world_size)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        shard = slice(rank * LOCAL_BATCH, (rank + 1) * LOCAL_BATCH)
        loss = dp_train_step(model, x[shard], y[shard], F.mse_loss, optimizer)
        results.put((rank, loss, [p.detach().tolist() for p in model.parameters()]))
    except Exception as exc:                     # report it instead of dying silently
        results.put((rank, None, f"{type(exc).__name__}: {exc}"))
    finally:
        dist.destroy_process_group()


def run_ranks(world_size):
    # fork on Linux: each rank is a copy of this process, torch already loaded (spawn would
    # start a new interpreter that imports torch again, seconds per rank)
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    results = ctx.Queue()
    with tempfile.TemporaryDirectory() as tmp:
        procs = [ctx.Process(target=worker, args=(r, world_size, os.path.join(tmp, "store"),
                                                   results)) for r in range(world_size)]
        for p in procs:
            p.start()
        try:
            got = dict((rank, (loss, params)) for rank, loss, params in
                       (results.get(timeout=60) for _ in procs))
        finally:
            for p in procs:
                p.join(timeout=10)
                if p.is_alive():
                    p.kill()
    return got


def big_batch_step(world_size):
    """What one process does with the whole batch: the answer every rank must reach."""
    model, x, y = make_model_and_data(world_size)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = F.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item(), [p.detach() for p in model.parameters()]


@pytest.mark.parametrize("world_size", [1, 2])
def test_every_rank_matches_one_big_batch_step(world_size):
    want_loss, want_params = big_batch_step(world_size)
    got = run_ranks(world_size)
    for rank in range(world_size):
        loss, params = got[rank]
        assert loss is not None, f"rank {rank}: {params}"
        assert type(loss) is float
        assert loss == pytest.approx(want_loss, rel=1e-5)
        for p, want in zip(params, want_params):
            torch.testing.assert_close(torch.tensor(p), want)
