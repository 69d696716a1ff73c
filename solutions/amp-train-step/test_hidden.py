"""Hidden checks for amp-train-step.

The checks watch the step from the inside without changing what the candidate sees:
- `ProbeNet` records, on every forward, whether autocast is on, its dtype and the dtypes of
  the model's own parameters; an identity autograd Function between its layers records
  whether autocast is on during backward and can inject an inf gradient;
- `LossProbe` records whether autocast is on when the loss is computed, and a hook on the
  loss tensor records the gradient backward starts from (the scale) and the autocast state.
The optimizer and the GradScaler are the real ones. Every numeric comparison is against the
textbook loop (`_reference_step`) run on an identical twin of the model, optimizer and scaler.
"""

import copy
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from grader import harness as h

MODULE = "amp_step"
_tanh, _cross_entropy = torch.tanh, F.cross_entropy     # captured before candidate code runs


def _amp():
    """(device, autocast device_type, autocast dtype) for the grading device."""
    device = h.device()
    device_type = "cuda" if str(device).startswith("cuda") else "cpu"
    dtype = torch.float16 if device_type == "cuda" else torch.bfloat16
    return device, device_type, dtype


class _Tap(torch.autograd.Function):
    """Identity; its backward records the autocast state and can inject an inf gradient."""

    @staticmethod
    def forward(ctx, x, probe):
        ctx.probe = probe
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        probe = ctx.probe
        probe.backward_autocast.append(torch.is_autocast_enabled(probe.device_type))
        if probe.inject_inf:
            grad = grad * float("inf")     # every gradient upstream (fc1) becomes inf/NaN
        return grad, None


class ProbeNet(nn.Module):
    """x (N, d_in) -> Linear -> tanh -> [tap] -> Linear -> logits (N, d_out)."""

    def __init__(self, d_in, hidden, d_out, device_type):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, d_out)
        self.device_type = device_type
        self.inject_inf = False
        self.forward_autocast, self.forward_dtype, self.param_dtypes = [], [], []
        self.backward_autocast = []

    def forward(self, x):
        self.forward_autocast.append(torch.is_autocast_enabled(self.device_type))
        self.forward_dtype.append(torch.get_autocast_dtype(self.device_type))
        self.param_dtypes.append(sorted({str(p.dtype) for p in self.parameters()}))
        hidden = _Tap.apply(_tanh(self.fc1(x)), self)
        return self.fc2(hidden)

    def __deepcopy__(self, memo):
        twin = ProbeNet(self.fc1.in_features, self.fc1.out_features, self.fc2.out_features,
                        self.device_type).to(self.fc1.weight.device)
        twin.load_state_dict(self.state_dict())
        return twin


class LossProbe:
    """Cross-entropy that records the autocast state and, through a hook on the loss, the
    gradient backward starts from and the autocast state during backward."""

    def __init__(self, device_type):
        self.device_type = device_type
        self.autocast, self.seed_grads, self.backward_autocast = [], [], []

    def __call__(self, outputs, targets):
        self.autocast.append(torch.is_autocast_enabled(self.device_type))
        loss = _cross_entropy(outputs, targets)
        if loss.requires_grad:
            loss.register_hook(self._on_grad)
        return loss

    def __repr__(self):
        return "cross_entropy"

    def _on_grad(self, grad):
        self.seed_grads.append(float(grad.detach().float().sum()))
        self.backward_autocast.append(torch.is_autocast_enabled(self.device_type))


def _reference_step(model, batch, loss_fn, optimizer, scaler, device_type, dtype, max_grad_norm):
    """The textbook AMP step (PyTorch's amp_examples), the oracle for every comparison."""
    inputs, targets = batch
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type=device_type, dtype=dtype):
        loss = loss_fn(model(inputs), targets)
    scaler.scale(loss).backward()
    if max_grad_norm is not None:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()


_OPTIMIZERS = {   # name -> (description, factory)
    "sgd": ("SGD(lr=0.5)", lambda ps: torch.optim.SGD(ps, lr=0.5)),
    "momentum": ("SGD(lr=0.2, momentum=0.9)", lambda ps: torch.optim.SGD(ps, lr=0.2, momentum=0.9)),
    "adam": ("Adam(lr=0.05)", lambda ps: torch.optim.Adam(ps, lr=0.05)),
}


class Setup:
    """A probe model with its twin: same weights, same optimizer kind, same scaler settings."""

    def __init__(self, seed, d_in=5, hidden=7, classes=3, batch=6, optimizer="sgd",
                 scaler_kwargs=None):
        self.device, self.device_type, self.dtype = _amp()
        torch.manual_seed(seed)
        self.model = ProbeNet(d_in, hidden, classes, self.device_type).to(self.device)
        self.twin = copy.deepcopy(self.model)
        self.optimizer_name, make = _OPTIMIZERS[optimizer]
        self.optimizer = make(self.model.parameters())
        self.twin_optimizer = make(self.twin.parameters())
        # 2**10, not the default 2**16: on CUDA a float16 gradient of 2**16 * O(1) overflows
        # and the first step would be skipped (the checks that need it set their own scale)
        kwargs = {"init_scale": 2.0 ** 10, **(scaler_kwargs or {})}
        self.scaler_name = ", ".join([repr(self.device_type)] +
                                     [f"{k}={v:g}" for k, v in kwargs.items()])
        self.scaler = torch.amp.GradScaler(self.device_type, **kwargs)
        self.twin_scaler = torch.amp.GradScaler(self.device_type, **kwargs)
        self.loss_fn = LossProbe(self.device_type)
        gen = h.generator(seed)
        self.batches = [
            (h.randn(batch, d_in, gen=gen).to(self.device),
             torch.randint(0, classes, (batch,), generator=gen).to(self.device))
            for _ in range(6)
        ]
        self.initial = {n: p.detach().clone() for n, p in self.model.named_parameters()}

    def candidate_step(self, k=0, max_grad_norm=None):
        """Call the candidate's train_step on batch k; returns (value, call description)."""
        train_step = h.candidate(MODULE).train_step
        inputs, targets = self.batches[k]
        call = (f"train_step(model, (inputs{list(inputs.shape)}, targets{list(targets.shape)}), "
                f"cross_entropy, {self.optimizer_name}, GradScaler({self.scaler_name}), "
                f"device_type={self.device_type!r}, dtype={self.dtype}, "
                f"max_grad_norm={max_grad_norm})")
        try:
            value = h.call(train_step, self.model, (inputs.clone(), targets.clone()),
                           self.loss_fn, self.optimizer, self.scaler,
                           device_type=self.device_type, dtype=self.dtype,
                           max_grad_norm=max_grad_norm)
        except h.CheckFailed as exc:     # the harness describes the optimizer by its long repr
            text = str(exc)
            raise h.CheckFailed(call + text[len(h.last_call()):]
                                if text.startswith(h.last_call()) else text) from None
        return value, call

    def reference_step(self, k=0, max_grad_norm=None):
        inputs, targets = self.batches[k]
        return _reference_step(self.twin, (inputs.clone(), targets.clone()), _cross_entropy,
                               self.twin_optimizer, self.twin_scaler, self.device_type,
                               self.dtype, max_grad_norm)

    def assert_params_match(self, after, rtol=1e-5, atol=1e-6):
        for (name, got), (_, want) in zip(self.model.named_parameters(),
                                          self.twin.named_parameters()):
            h.assert_close(got.detach(), want.detach(), what=f"parameter {name} after {after}",
                           expected_from="the reference AMP loop", rtol=rtol, atol=atol)


def _check_returned_loss(value, expected, call):
    h.check(type(value) is float,
            f"{call} returned {h.describe(value)}; expected the loss as a Python float "
            "(loss.item())")
    h.check(math.isclose(value, expected, rel_tol=1e-5, abs_tol=1e-6),
            f"{call} returned {value!r}; expected the unscaled loss {expected!r} of this batch, "
            "computed under autocast before the update")


# ------------------------------------------------------------------------------------ checks

def test_forward_and_loss_under_autocast():
    """forward and loss run under autocast with the requested dtype"""
    s = Setup(seed=1)
    _, call = s.candidate_step()
    h.check(s.model.forward_autocast,
            f"{call} never called the model's forward")
    h.check(all(s.model.forward_autocast),
            f"{call}: the model's forward ran with autocast off; wrap forward and loss in "
            f"torch.autocast(device_type={s.device_type!r}, dtype={s.dtype})")
    h.check(all(d == s.dtype for d in s.model.forward_dtype),
            f"{call}: autocast was on with dtype {s.model.forward_dtype[0]}; expected the "
            f"dtype argument, {s.dtype}")
    h.check(s.loss_fn.autocast and all(s.loss_fn.autocast),
            f"{call}: loss_fn was {'never called' if not s.loss_fn.autocast else 'called with autocast off'}; "
            "compute the loss inside the autocast block too")


def test_backward_outside_autocast():
    """backward runs outside autocast"""
    s = Setup(seed=2)
    _, call = s.candidate_step()
    seen = s.model.backward_autocast + s.loss_fn.backward_autocast
    h.check(s.model.backward_autocast and s.loss_fn.backward_autocast,
            f"{call}: backward never reached the loss and the model's layers")
    h.check(not any(seen),
            f"{call}: backward ran with autocast on; leave the autocast block before calling "
            "backward (backward ops already run in the dtype of their forward ops)")


def test_weights_and_optimizer_state_stay_float32():
    """parameters, gradients and optimizer state stay float32"""
    s = Setup(seed=3, optimizer="adam")
    for k in range(2):
        _, call = s.candidate_step(k)
    during = [d for d in s.model.param_dtypes if d != ["torch.float32"]]
    h.check(not during,
            f"{call}: during forward the model's parameters were {during[0] if during else ''}; "
            "keep the model float32 (autocast casts per op; never model.half())")
    for name, p in s.model.named_parameters():
        h.check(p.dtype == torch.float32,
                f"after {call}, parameter {name} is {p.dtype}; expected torch.float32")
        h.check(p.grad is None or p.grad.dtype == torch.float32,
                f"after {call}, the gradient of {name} is {p.grad.dtype}; expected torch.float32")
    for state in s.optimizer.state.values():
        for key, value in state.items():
            if torch.is_tensor(value) and value.is_floating_point():
                h.check(value.dtype == torch.float32,
                        f"after {call}, optimizer state '{key}' is {value.dtype}; expected "
                        "torch.float32 (the optimizer must see float32 master weights)")


def test_loss_is_scaled_before_backward():
    """backward starts from the scaled loss"""
    s = Setup(seed=4, scaler_kwargs={"init_scale": 2.0 ** 12})
    scale = s.scaler.get_scale()
    _, call = s.candidate_step()
    h.check(s.loss_fn.seed_grads,
            f"{call}: no gradient flowed back into the loss returned by loss_fn")
    h.check(s.loss_fn.seed_grads == [scale],
            f"{call}: backward reached the loss with gradient {s.loss_fn.seed_grads}; expected "
            f"[{scale}] = scaler.get_scale(): call scaler.scale(loss).backward() so that small "
            "gradients do not underflow")


def test_clipping_uses_unscaled_gradients():
    """max_grad_norm clips the unscaled gradients"""
    for seed in (5, 6):
        s = Setup(seed=seed, optimizer="sgd")
        probe = copy.deepcopy(s.model)                 # true gradient norm of this batch
        inputs, targets = s.batches[0]
        _cross_entropy(probe(inputs), targets).backward()
        norm = float(torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(p.grad) for p in probe.parameters()])))
        max_norm = 0.25 * norm                         # clipping is active
        _, call = s.candidate_step(max_grad_norm=max_norm)
        s.reference_step(max_grad_norm=max_norm)
        lr = s.optimizer.param_groups[0]["lr"]
        moved = torch.stack([torch.linalg.vector_norm(p.detach() - s.initial[n])
                             for n, p in s.model.named_parameters()])
        update_norm = float(torch.linalg.vector_norm(moved)) / lr
        h.check(math.isclose(update_norm, max_norm, rel_tol=0.05),
                f"{call} with SGD(lr={lr}): the gradient applied had norm {update_norm:.4g}; "
                f"expected {max_norm:.4g} (the unscaled gradient norm {norm:.4g} clipped to "
                "max_grad_norm). Unscale with scaler.unscale_(optimizer) before clipping.")
        s.assert_params_match("one train_step with max_grad_norm")


@pytest.mark.points(2)
def test_overflow_skips_update_and_halves_scale():
    """an inf gradient skips the update and halves the scale"""
    for max_norm in (None, 1.0):
        s = Setup(seed=7, optimizer="momentum", scaler_kwargs={"init_scale": 2.0 ** 10})
        s.model.inject_inf = True
        value, call = s.candidate_step(max_grad_norm=max_norm)
        for name, p in s.model.named_parameters():
            h.check(torch.equal(p.detach(), s.initial[name]),
                    f"{call} with an inf gradient changed parameter {name} (it now holds "
                    f"{'non-finite values' if not bool(torch.isfinite(p).all()) else 'new values'});"
                    " the step must be skipped: scaler.step(optimizer) checks the gradients "
                    "for inf/NaN and only then calls optimizer.step()")
        h.check(len(s.optimizer.state) == 0,
                f"{call} with an inf gradient still ran optimizer.step() (momentum buffers "
                "were created); scaler.step(optimizer) skips the step when gradients overflow")
        h.check(s.scaler.get_scale() == 2.0 ** 9,
                f"after {call} with an inf gradient, scaler.get_scale() is "
                f"{s.scaler.get_scale()}; expected {2.0 ** 9} (half of {2.0 ** 10}): call "
                "scaler.update() once per step")
        h.check(type(value) is float and math.isfinite(value),
                f"{call} with an inf gradient returned {value!r}; expected the finite loss")
        s.model.inject_inf = False                     # the next, clean step must train again
        _, call = s.candidate_step(1, max_grad_norm=max_norm)
        moved = any(not torch.equal(p.detach(), s.initial[n])
                    for n, p in s.model.named_parameters())
        h.check(moved, f"{call}: a clean step after a skipped one left the parameters unchanged")


def test_scaler_update_once_per_step():
    """scaler.update() runs exactly once per step"""
    s = Setup(seed=8, scaler_kwargs={"init_scale": 2.0 ** 8, "growth_interval": 1})
    for k in range(3):
        _, call = s.candidate_step(k)
        want = 2.0 ** (9 + k)
        got = s.scaler.get_scale()
        h.check(got == want,
                f"after {k + 1} call(s) of {call}, scaler.get_scale() is {got}; "
                f"expected {want} (growth_interval=1 doubles it once per clean step): "
                "scaler.update() must run exactly once per step")


def test_no_gradient_accumulation_across_steps():
    """gradients are cleared: no accumulation across steps"""
    # scale 1: a leftover (already unscaled) gradient would otherwise hide behind 1/scale
    s = Setup(seed=9, optimizer="sgd", scaler_kwargs={"init_scale": 1.0})
    for k in range(3):
        s.candidate_step(k)
        s.reference_step(k)
        try:
            s.assert_params_match(f"{k + 1} call(s) of train_step")
        except h.CheckFailed as exc:
            raise h.CheckFailed(f"{exc}. The first call matched; did the gradients of the "
                                "previous step get cleared?" if k else str(exc)) from None


def test_returns_unscaled_loss_as_float():
    """returns the unscaled loss as a Python float"""
    s = Setup(seed=10, optimizer="adam", scaler_kwargs={"init_scale": 2.0 ** 14})
    for k in range(3):
        value, call = s.candidate_step(k)
        expected = s.reference_step(k)
        _check_returned_loss(value, expected, call)


@pytest.mark.points(2)
@settings(max_examples=12, deadline=None, report_multiple_bugs=False,
          phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink))
@given(seed=st.integers(0, 10_000), d_in=st.integers(1, 6), hidden=st.integers(1, 10),
       classes=st.integers(2, 5), batch=st.integers(1, 6), steps=st.integers(2, 4),
       optimizer=st.sampled_from(sorted(_OPTIMIZERS)),
       max_norm=st.sampled_from([None, 0.05, 1.0]))
def test_trains_like_the_reference_loop(seed, d_in, hidden, classes, batch, steps, optimizer,
                                        max_norm):
    """several steps train exactly like the reference AMP loop"""
    s = Setup(seed=seed, d_in=d_in, hidden=hidden, classes=classes, batch=batch,
              optimizer=optimizer)
    for k in range(steps):
        value, call = s.candidate_step(k, max_grad_norm=max_norm)
        expected = s.reference_step(k, max_grad_norm=max_norm)
        _check_returned_loss(value, expected, call)
        s.assert_params_match(f"{k + 1} call(s) of train_step with max_grad_norm={max_norm}")
    changed = any(not torch.equal(p.detach(), s.initial[n]) for n, p in s.twin.named_parameters())
    h.check(changed, "the reference loop did not change the parameters: the optimizer or "
                     "GradScaler was tampered with")
