"""Hidden checks for data-parallel-step.

Real process groups: gloo, 2 and 3 ranks, each rank a forked copy of the grading child
(sandbox included) that calls the candidate's dp_train_step on its shard (grader/exercise_support/dp_ranks.py). Each world
size is started once and plays every scenario; the checks then compare what the ranks
reported with one process training the same model on the whole batch (with equal shards,
the average over ranks of each shard's mean loss is the mean loss of the whole batch).
"""

import random

import pytest
import torch

from grader import harness as h
from grader.exercise_support import dp_ranks   # at collection: before the sandbox locks

MODULE = "dp_step"
RTOL, ATOL = 1e-5, 1e-6          # float32, a few steps; summation order differs from one process

_SCENARIOS = [      # sizes (d_in, hidden, d_out, local_batch) are drawn per run
    {"name": "one step", "loss": "mse", "optimizer": "sgd", "steps": 1},
    {"name": "4 steps of sgd with momentum", "loss": "ce", "optimizer": "momentum", "steps": 4},
    {"name": "3 steps of adam", "loss": "ce", "optimizer": "adam", "steps": 3},
    {"name": "2 steps with frozen and unused parameters", "loss": "mse", "optimizer": "sgd",
     "steps": 2, "frozen": True},
]
_runs: dict = {}


def _scenario_spec(name):
    """The scenario with secret-seeded sizes, weights and data (new every run)."""
    base = h.seed() % 1_000_000
    for i, sc in enumerate(_SCENARIOS):
        if sc["name"] == name:
            rng = random.Random(base + 17 * i)
            sizes = dict(d_in=rng.randint(2, 7), hidden=rng.randint(3, 9),
                         d_out=rng.randint(2, 5), local_batch=rng.randint(1, 5))
            return dict(sc, seed=base + 17 * i, **sizes)
    raise KeyError(name)


def _group(world_size):
    """Start `world_size` ranks once; they play every scenario."""
    if world_size not in _runs:
        hung = [ws for ws, run in _runs.items() if run.timed_out]
        if hung:                      # do not spend the time limit twice on a hanging step
            return dp_ranks.GroupRun(world_size, problem=f"not run: with {hung[0]} ranks the "
                                     "step already hung (see those checks)")
        module = h.candidate(MODULE)                 # clear message for import/syntax errors
        h.check(callable(getattr(module, "dp_train_step", None)),
                "dp_step.py defines no function "
                "dp_train_step(model, inputs, targets, loss_fn, optimizer)")
        _runs[world_size] = dp_ranks.run_ranks(
            MODULE, world_size, [_scenario_spec(sc["name"]) for sc in _SCENARIOS],
            lock=dp_ranks.lock_config())
    return _runs[world_size]


def _results(world_size, name):
    """{rank: payload} of one scenario, or a CheckFailed saying why there is none."""
    run = _group(world_size)
    got = {r: run.results.get((name, r)) for r in range(world_size)}
    if all(v is not None for v in got.values()):
        return got
    where = f"with {world_size} ranks, scenario '{name}'"
    # a rank's own failure first; "the connection to another rank closed" is its echo elsewhere
    errors = sorted(run.errors, key=lambda e: "another rank left" in e[2])
    own = [msg for scenario, _, msg in errors if scenario == name]
    other = [msg for scenario, _, msg in errors if scenario != name]
    if own:
        raise h.CheckFailed(f"{where}: {own[0]}")
    if other:
        raise h.CheckFailed(f"{where} never ran: the ranks stopped earlier: {other[0]}")
    raise h.CheckFailed(f"{where}: {run.problem or 'no rank reported a result'}")


class Reference:
    """The same scenario in one process, on the whole batch (world_size shards at once)."""

    def __init__(self, sc, world_size):
        model = dp_ranks.build_model(sc)
        self.initial = {n: p.detach().clone() for n, p in model.named_parameters()}
        optimizer = dp_ranks.make_optimizer(sc, model)
        loss_fn = dp_ranks.LOSSES[sc["loss"]]
        self.losses = []
        for inputs, targets in dp_ranks.global_batches(sc, world_size):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
            self.losses.append(loss.item())
        self.params = {n: p.detach().clone() for n, p in model.named_parameters()}
        self.grads = {n: None if p.grad is None else p.grad.detach().clone()
                      for n, p in model.named_parameters()}


def _local_grads(sc, world_size, rank):
    """Gradients of one rank's shard alone (to explain a missing average)."""
    model = dp_ranks.build_model(sc)
    inputs, targets = dp_ranks.global_batches(sc, world_size)[0]
    b = sc["local_batch"]
    dp_ranks.LOSSES[sc["loss"]](model(dp_ranks.shard(inputs, rank, b)),
                                dp_ranks.shard(targets, rank, b)).backward()
    return {n: p.grad for n, p in model.named_parameters()}


def _check_params(world_size, name):
    sc = _scenario_spec(name)
    got, ref = _results(world_size, name), Reference(sc, world_size)
    for rank, payload in got.items():
        for pname, want in ref.params.items():
            h.assert_close(payload["params"][pname], want,
                           what=f"parameter {pname} on rank {rank} of {world_size} after "
                                f"the scenario '{name}'",
                           expected_from="one process training on the whole batch",
                           rtol=RTOL, atol=ATOL)


def _check_grads(world_size):
    name = "one step"
    sc = _scenario_spec(name)
    got, ref = _results(world_size, name), Reference(sc, world_size)
    for rank, payload in got.items():
        local = _local_grads(sc, world_size, rank)
        for pname, want in ref.grads.items():
            grad = payload["grads"][pname]
            where = (f"with {world_size} ranks, after one dp_train_step on rank {rank}, "
                     f"{pname}.grad")
            h.check(grad is not None,
                    f"{where} is None; expected the gradient averaged over the ranks (leave "
                    "it in .grad: clear gradients at the start of a step, not at the end)")
            if want.shape == grad.shape:
                if torch.allclose(grad, want * world_size, rtol=RTOL, atol=ATOL):
                    raise h.CheckFailed(f"{where} is {world_size} times the average: the sum "
                                        "over ranks was not divided by the world size")
                if torch.allclose(grad, local[pname], rtol=RTOL, atol=ATOL):
                    raise h.CheckFailed(f"{where} is this rank's own gradient: it was never "
                                        "averaged with the other ranks")
                if torch.allclose(grad, local[pname] / world_size, rtol=RTOL, atol=ATOL):
                    raise h.CheckFailed(f"{where} is this rank's own gradient divided by "
                                        f"{world_size}: averaging the loss does not average the "
                                        "gradients (all_reduce is not part of autograd)")
            h.assert_close(grad, want, what=f"the gradient of {pname} on rank {rank} of {world_size}",
                           expected_from="the gradient of the mean loss over the whole batch",
                           rtol=RTOL, atol=ATOL)


# ------------------------------------------------------------------------------------ checks

def test_gradients_are_averaged_2_ranks():
    """2 ranks: .grad holds the gradient averaged over ranks"""
    _check_grads(2)


def test_gradients_are_averaged_3_ranks():
    """3 ranks: .grad holds the gradient averaged over ranks"""
    _check_grads(3)


def test_one_step_matches_big_batch_2_ranks():
    """2 ranks: one step equals one big-batch step"""
    _check_params(2, "one step")


def test_one_step_matches_big_batch_3_ranks():
    """3 ranks: one step equals one big-batch step"""
    _check_params(3, "one step")


@pytest.mark.points(1.5)
def test_several_steps_match_big_batch_2_ranks():
    """2 ranks: several SGD-momentum and Adam steps equal big-batch training"""
    _check_params(2, "4 steps of sgd with momentum")
    _check_params(2, "3 steps of adam")


@pytest.mark.points(1.5)
def test_several_steps_match_big_batch_3_ranks():
    """3 ranks: several SGD-momentum and Adam steps equal big-batch training"""
    _check_params(3, "4 steps of sgd with momentum")
    _check_params(3, "3 steps of adam")


def test_ranks_stay_identical():
    """every rank ends with the same weights"""
    for world_size in (2, 3):
        for name in ("4 steps of sgd with momentum", "3 steps of adam"):
            got = _results(world_size, name)
            for rank in range(1, world_size):
                for pname, value in got[rank]["params"].items():
                    h.assert_close(value, got[0]["params"][pname],
                                   what=f"parameter {pname} on rank {rank} after '{name}'",
                                   expected_from=f"the same parameter on rank 0 ({world_size} "
                                                 "ranks must stay in sync)",
                                   rtol=1e-6, atol=1e-7)


def test_returns_global_mean_loss():
    """returns the mean loss over all ranks as a Python float"""
    # Only the first call's value can be compared with one process: later losses depend on
    # the weights the earlier steps produced, which the averaging checks judge. Every call's
    # value must be a float and the same on every rank (an all-reduced mean is, whatever the
    # weights).
    for world_size in (2, 3):
        name = "4 steps of sgd with momentum"
        ref = Reference(_scenario_spec(name), world_size)
        results = _results(world_size, name)
        for rank, payload in results.items():
            for step, got in enumerate(payload["losses"]):
                call = f"with {world_size} ranks, call {step + 1} of dp_train_step on rank {rank}"
                h.check(type(got) is float,
                        f"{call} returned {got}; expected a Python float (loss.item())")
            got, want = payload["losses"][0], ref.losses[0]
            h.check(abs(got - want) <= 1e-5 * abs(want) + 1e-6,
                    f"with {world_size} ranks, call 1 of dp_train_step on rank {rank} returned "
                    f"{got:.6g}; expected {want:.6g}, the loss averaged over all ranks (the mean "
                    "loss of the whole global batch), the same on every rank")
        for step, first in enumerate(results[0]["losses"]):
            for rank in range(1, world_size):
                got = results[rank]["losses"][step]
                h.check(abs(got - first) <= 1e-6 * abs(first) + 1e-7,
                        f"with {world_size} ranks, call {step + 1} of dp_train_step returned "
                        f"{got:.6g} on rank {rank} but {first:.6g} on rank 0; expected the same "
                        "value on every rank: the loss averaged over all ranks")


def test_parameters_without_grad_are_skipped():
    """frozen and unused parameters (grad None) are skipped"""
    # The step must run (no error, the trainable parameters move) and
    # leave the parameters without one alone; whether the trainable ones got the big-batch
    # update is the averaging checks' business.
    name = "2 steps with frozen and unused parameters"
    frozen = ("fc1.weight", "fc1.bias", "unused")
    for world_size in (2, 3):
        ref = Reference(_scenario_spec(name), world_size)
        for rank, payload in _results(world_size, name).items():
            for pname in frozen:
                h.assert_close(payload["params"][pname], ref.initial[pname],
                               what=f"parameter {pname} (no gradient) on rank {rank}",
                               expected_from="its initial value", rtol=0, atol=0)
                h.check(payload["grads"][pname] is None,
                        f"with {world_size} ranks, after dp_train_step on rank {rank}, {pname}"
                        f".grad is a tensor; it had no gradient (frozen or unused in forward) "
                        "and must stay None: skip it, do not fill it in")
            for pname, initial in ref.initial.items():
                if pname in frozen:
                    continue
                h.check(not torch.equal(payload["params"][pname], initial),
                        f"with {world_size} ranks, scenario '{name}': the trainable parameter "
                        f"{pname} on rank {rank} never changed; with frozen and unused "
                        "parameters present the step must still update the others")
