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


def _param_groups(model, groups):
    """All parameters in one group, or (groups=True) one group for fc1 and one for fc2."""
    if not groups:
        return model.parameters()
    return [{"params": list(model.fc1.parameters())}, {"params": list(model.fc2.parameters())}]


def _require(condition, message):
    """h.check with a message built only when the check fails: `message` is a callable, so
    nothing the candidate's code may have left None (p.grad...) is touched on success."""
    h.check(condition, "" if condition else message())


class Setup:
    """A probe model with its twin: same weights, same optimizer kind, same scaler settings.

    `dtype` overrides the autocast dtype (default: the grading device's); `groups` builds the
    optimizers with two parameter groups (fc1, fc2); `gain` multiplies the inputs and fc2's
    weights (large gradients, for the checks that need clipping to matter)."""

    def __init__(self, seed, d_in=5, hidden=7, classes=3, batch=6, optimizer="sgd",
                 scaler_kwargs=None, dtype=None, groups=False, gain=1.0):
        self.device, self.device_type, self.dtype = _amp()
        self.dtype = dtype or self.dtype
        torch.manual_seed(seed)
        self.model = ProbeNet(d_in, hidden, classes, self.device_type).to(self.device)
        if gain != 1.0:
            with torch.no_grad():
                self.model.fc2.weight.mul_(gain)
        self.twin = copy.deepcopy(self.model)
        self.optimizer_name, make = _OPTIMIZERS[optimizer]
        if groups:
            self.optimizer_name += " with 2 param groups (fc1's and fc2's parameters)"
        self.optimizer = make(_param_groups(self.model, groups))
        self.twin_optimizer = make(_param_groups(self.twin, groups))
        # 2**10, not the default 2**16: on CUDA a float16 gradient of 2**16 * O(1) overflows
        # and the first step would be skipped (the checks that need it set their own scale)
        self.scaler_kwargs = {"init_scale": 2.0 ** 10, **(scaler_kwargs or {})}
        self.scaler_name = ", ".join([repr(self.device_type)] +
                                     [f"{k}={v:g}" for k, v in self.scaler_kwargs.items()])
        self.new_scalers()
        self.loss_fn = LossProbe(self.device_type)
        gen = h.generator(seed)
        self.batches = [
            (gain * h.randn(batch, d_in, gen=gen).to(self.device),
             torch.randint(0, classes, (batch,), generator=gen).to(self.device))
            for _ in range(6)
        ]
        self.initial = {n: p.detach().clone() for n, p in self.model.named_parameters()}
        self.start, self.twin_start = dict(self.initial), dict(self.initial)

    def new_scalers(self):
        """A fresh GradScaler for the candidate and one for the twin (same settings). Checks
        that are not about the scaler's bookkeeping give every step a fresh one (a caller
        may), so that a scaler mistake is judged by the scaler checks alone."""
        self.scaler = torch.amp.GradScaler(self.device_type, **self.scaler_kwargs)
        self.twin_scaler = torch.amp.GradScaler(self.device_type, **self.scaler_kwargs)

    def sync_twin(self):
        """Give the twin the candidate model's current weights (as float32), so that the next
        reference step starts where the candidate's model is now; `applied` then measures
        the next step alone."""
        with torch.no_grad():
            for p, q in zip(self.model.parameters(), self.twin.parameters()):
                q.copy_(p.detach().float())
        self.start = {n: p.detach().clone() for n, p in self.model.named_parameters()}
        self.twin_start = {n: p.detach().clone() for n, p in self.twin.named_parameters()}

    def candidate_step(self, k=0, max_grad_norm=None):
        """Call the candidate's train_step on batch k; returns (value, call description)."""
        train_step = h.candidate(MODULE).train_step
        inputs, targets = self.batches[k]
        call = (f"train_step(model, (inputs{list(inputs.shape)}, targets{list(targets.shape)}), "
                f"cross_entropy, {self.optimizer_name}, GradScaler({self.scaler_name}), "
                f"device_type={self.device_type!r}, dtype={self.dtype}, "
                f"max_grad_norm={_fmt(max_grad_norm)})")
        self.last_call = call
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

    def applied(self):
        """{name: start - now} of the candidate's model, in float32: the update the optimizer
        applied since the start (or the last sync_twin). The start value is first rounded to
        the parameter's current dtype, so a model cast to 16 bits (judged by the float32
        check) is not also reported here as a huge update."""
        return {n: self.start[n].to(p.dtype).float() - p.detach().float()
                for n, p in self.model.named_parameters()}

    def rounding(self, prefix=""):
        """Norm of one rounding step of the candidate's parameters (those whose name starts
        with `prefix`) at their own dtype: ~1e-7 of their norm for float32 weights, but a
        model cast to 16 bits (the float32 check's business) rounds every update to a
        multiple of its ulp, and the update checks must not fail it at random for that."""
        return math.sqrt(sum((torch.finfo(p.dtype).eps * float(torch.linalg.vector_norm(
            p.detach().float()))) ** 2 for n, p in self.model.named_parameters()
            if n.startswith(prefix) and p.is_floating_point()))

    def twin_applied(self):
        return {n: self.twin_start[n].float() - p.detach().float()
                for n, p in self.twin.named_parameters()}

    def assert_update_matches(self, after, call, rel=0.05):
        """The update the candidate's step applied equals the reference step's, within `rel`
        of its size (in norm). The single-property checks compare this way: the tolerance
        holds whatever precision the forward pass ran in (a forward outside autocast, or a
        model cast to 16 bits, is judged by its own check), while every mistake they look for
        (scaled, accumulated, unclipped or wrongly clipped gradients) is far larger."""
        got, want = self.applied(), self.twin_applied()
        diff = _norm([got[n] - want[n] for n in want])
        size = _norm(list(want.values()))
        if diff <= rel * size + self.rounding() + 1e-7:
            return
        name = max(want, key=lambda n: float(torch.linalg.vector_norm(got[n] - want[n])))
        worst = int(torch.argmax((got[name] - want[name]).abs()))
        index, rest = [], worst
        for extent in reversed(want[name].shape):
            index.insert(0, rest % extent)
            rest //= extent
        raise h.CheckFailed(
            f"after {after}, the update the optimizer applied (weights before the call minus "
            f"after) differs from the reference AMP step by {diff / max(size, 1e-30):.1%} of "
            f"its size (norm {_norm(list(got.values())):.4g}, expected {size:.4g}); worst at "
            f"{name}{index}: got {got[name].reshape(-1)[worst].item():.4g}, "
            f"expected {want[name].reshape(-1)[worst].item():.4g}. The call was {call}")

    def assert_params_match(self, after):
        """Every candidate parameter equals the twin's (dtype included), at float32 tolerance:
        the combined check's comparison."""
        for (name, got), (_, want) in zip(self.model.named_parameters(),
                                          self.twin.named_parameters()):
            h.assert_close(got.detach(), want.detach(), what=f"parameter {name} after {after}",
                           expected_from="the reference AMP loop", rtol=1e-5, atol=1e-6)


def _fmt(value):
    return "None" if value is None else f"{value:.4g}"


def _check_returned_loss(value, expected, call, rel_tol=1e-5):
    h.check(type(value) is float,
            f"{call} returned {h.describe(value)}; expected the loss as a Python float "
            "(loss.item())")
    _require(math.isclose(value, expected, rel_tol=rel_tol, abs_tol=1e-6),
             lambda: f"{call} returned {value!r}; expected the unscaled loss {expected!r} of "
                     "this batch, computed under autocast before the update")


def _true_grad_norms(s, k=0):
    """(total, {name: norm}) of the float32 gradient of batch k at the model's initial weights
    (computed on a copy, without autocast: what clipping measures, up to rounding)."""
    probe = copy.deepcopy(s.model)
    inputs, targets = s.batches[k]
    _cross_entropy(probe(inputs), targets).backward()
    norms = {n: float(torch.linalg.vector_norm(p.grad)) for n, p in probe.named_parameters()}
    return math.sqrt(sum(v * v for v in norms.values())), norms


def _norm(values):
    return math.sqrt(sum(float(torch.linalg.vector_norm(v)) ** 2 for v in values))


# ------------------------------------------------------------------------------------ checks

def test_forward_and_loss_under_autocast():
    """forward and loss run under autocast with the requested dtype"""
    _, device_type, default = _amp()
    other = torch.bfloat16 if default == torch.float16 else torch.float16
    for dtype in (default, other):           # the dtype argument, not autocast's default
        s = Setup(seed=1, dtype=dtype)
        failure = None
        try:
            _, call = s.candidate_step()
        except h.Tampered:
            raise
        except h.CheckFailed as exc:
            # what the step did after forward and loss (e.g. a GradScaler error) is judged
            # by the other checks; this one needs only forward and loss to have run
            failure, call = exc, s.last_call
        fwd, fwd_dtype, loss_ac = s.model.forward_autocast, s.model.forward_dtype, s.loss_fn.autocast
        if failure is not None and not (fwd and loss_ac):
            raise failure
        h.check(fwd, f"{call} never called the model's forward")
        h.check(all(fwd),
                f"{call}: the model's forward ran with autocast off; wrap forward and loss in "
                f"torch.autocast(device_type={device_type!r}, dtype={dtype})")
        _require(all(d == dtype for d in fwd_dtype),
                 lambda: f"{call}: the model's forward ran under autocast with dtype "
                         f"{next(d for d in fwd_dtype if d != dtype)}; expected the dtype "
                         f"argument, {dtype} (pass dtype=dtype to torch.autocast)")
        h.check(loss_ac, f"{call}: loss_fn was never called")
        h.check(all(loss_ac),
                f"{call}: loss_fn was called with autocast off; compute the loss inside the "
                "autocast block too")


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
    grad_dtypes = {}        # name -> dtypes of .grad seen right after backward accumulated it

    def record(name):
        def hook(param):
            grad = param.grad
            grad_dtypes.setdefault(name, set()).add(None if grad is None else grad.dtype)
        return hook

    handles = [p.register_post_accumulate_grad_hook(record(n))
               for n, p in s.model.named_parameters()]
    try:
        for k in range(2):
            s.new_scalers()
            _, call = s.candidate_step(k)
    finally:
        for handle in handles:
            handle.remove()
    during = [d for d in s.model.param_dtypes if d != ["torch.float32"]]
    _require(not during,
             lambda: f"{call}: during forward the model's parameters were {during[0]}; keep "
                     "the model float32 (autocast casts per op; never model.half())")
    for name, p in s.model.named_parameters():
        _require(p.dtype == torch.float32,
                 lambda: f"after {call}, parameter {name} is {p.dtype}; expected torch.float32")
        bad = sorted(str(d) for d in grad_dtypes.get(name, ()) if d not in (None, torch.float32))
        grad = p.grad                           # None when the step cleared it at the end
        if grad is not None and grad.dtype != torch.float32:
            bad.append(str(grad.dtype))
        _require(not bad,
                 lambda: f"during {call}, the gradient of {name} was {bad[0]}; expected "
                         "torch.float32 (gradients take their parameter's dtype)")
    for state in s.optimizer.state.values():
        for key, value in state.items():
            if torch.is_tensor(value) and value.is_floating_point():
                _require(value.dtype == torch.float32,
                         lambda: f"after {call}, optimizer state '{key}' is {value.dtype}; "
                                 "expected torch.float32 (the optimizer must see float32 "
                                 "master weights)")


def test_loss_is_scaled_before_backward():
    """backward starts from the scaled loss"""
    s = Setup(seed=4, scaler_kwargs={"init_scale": 2.0 ** 12})
    scale = s.scaler.get_scale()
    _, call = s.candidate_step()
    seeds = s.loss_fn.seed_grads
    h.check(seeds, f"{call}: no gradient flowed back into the loss returned by loss_fn")
    _require(seeds == [scale],
             lambda: f"{call}: backward reached the loss with gradient {seeds}; expected "
                     f"[{scale}] = scaler.get_scale() of the scaler passed in: call "
                     "scaler.scale(loss).backward() with that scaler, so that small gradients "
                     "do not underflow")


def test_clipping_uses_unscaled_gradients():
    """max_grad_norm clips the unscaled gradients"""
    for seed in (5, 6):
        s = Setup(seed=seed, optimizer="sgd")
        norm, _ = _true_grad_norms(s)
        max_norm = 0.25 * norm                         # clipping is active
        _, call = s.candidate_step(max_grad_norm=max_norm)
        s.reference_step(max_grad_norm=max_norm)
        lr = s.optimizer.param_groups[0]["lr"]
        update_norm = _norm(s.applied().values()) / lr
        _require(abs(update_norm - max_norm) <= 0.05 * max_norm + s.rounding() / lr,
                 lambda: f"{call} with SGD(lr={lr}): the gradient applied had norm "
                         f"{update_norm:.4g}; expected {max_norm:.4g} (the unscaled gradient "
                         f"norm {norm:.4g} clipped to max_grad_norm). Unscale with "
                         "scaler.unscale_(optimizer) before clipping.")
        s.assert_update_matches(f"one train_step with max_grad_norm={max_norm:.4g}", call)


def test_clip_total_norm_across_groups():
    """max_grad_norm clips the total norm over all param groups together"""
    for seed in (11, 12):
        s = Setup(seed=seed, optimizer="sgd", groups=True)
        norm, norms = _true_grad_norms(s)
        max_norm = 0.25 * norm                         # clipping is active
        _, call = s.candidate_step(max_grad_norm=max_norm)
        s.reference_step(max_grad_norm=max_norm)
        lr = s.optimizer.param_groups[0]["lr"]
        applied = s.applied()
        got = [_norm([applied[n] for n in applied if n.startswith(layer)]) / lr
               for layer in ("fc1.", "fc2.")]
        want = [math.sqrt(sum(v * v for n, v in norms.items() if n.startswith(layer)))
                * max_norm / norm for layer in ("fc1.", "fc2.")]
        slack = [s.rounding(layer) / lr for layer in ("fc1.", "fc2.")]
        _require(all(abs(g - w) <= 0.05 * w + e for g, w, e in zip(got, want, slack)),
                 lambda: f"{call}: the gradient applied to group 0 (fc1) had norm {got[0]:.4g} "
                         f"and to group 1 (fc2) {got[1]:.4g}; expected {want[0]:.4g} and "
                         f"{want[1]:.4g}: the total norm {norm:.4g} over ALL parameters (both "
                         f"groups together) clipped to max_grad_norm={max_norm:.4g}, i.e. every "
                         "gradient scaled by the same factor (clip once over every parameter, "
                         "not group by group)")
        s.assert_update_matches(f"one train_step with max_grad_norm={max_norm:.4g} and 2 "
                                "param groups", call)


def test_no_clipping_without_max_grad_norm():
    """without max_grad_norm the gradients are not clipped"""
    # large gradients, so that any clipping shows; scale 1: the scaler is other checks' job
    s = Setup(seed=13, optimizer="sgd", gain=5.0, scaler_kwargs={"init_scale": 1.0})
    k = max(range(len(s.batches)), key=lambda i: _true_grad_norms(s, i)[0])
    norm, _ = _true_grad_norms(s, k)
    h.check(norm > 2.0, f"grader problem: the no-clipping case has gradient norm {norm:.3g}")
    _, call = s.candidate_step(k, max_grad_norm=None)
    s.reference_step(k, max_grad_norm=None)
    lr = s.optimizer.param_groups[0]["lr"]
    update_norm = _norm(s.applied().values()) / lr
    _require(abs(update_norm - norm) <= 0.05 * norm + s.rounding() / lr,
             lambda: f"{call} with SGD(lr={lr}): the gradient applied had norm "
                     f"{update_norm:.4g}; expected the unclipped gradient, of norm {norm:.4g} "
                     "(clip only when max_grad_norm is not None)")
    s.assert_update_matches("one train_step with max_grad_norm=None", call)


def _check_overflow_step(max_norm):
    s = Setup(seed=7, optimizer="momentum", scaler_kwargs={"init_scale": 2.0 ** 10})
    s.model.inject_inf = True
    value, call = s.candidate_step(max_grad_norm=max_norm)
    for name, p in s.model.named_parameters():
        # compared at the parameter's own dtype: a model cast to 16 bits is the float32
        # check's business, not this one's
        _require(torch.equal(p.detach(), s.initial[name].to(p.dtype)),
                 lambda: f"{call} with an inf gradient changed parameter {name} (it now holds "
                         f"{'non-finite values' if not bool(torch.isfinite(p).all()) else 'new values'});"
                         " the step must be skipped: scaler.step(optimizer) checks the "
                         "gradients for inf/NaN and only then calls optimizer.step()")
    h.check(len(s.optimizer.state) == 0,
            f"{call} with an inf gradient still ran optimizer.step() (momentum buffers "
            "were created); scaler.step(optimizer) skips the step when gradients overflow")
    scale = s.scaler.get_scale()
    _require(scale == 2.0 ** 9,
             lambda: f"after {call} with an inf gradient, scaler.get_scale() is {scale}; "
                     f"expected {2.0 ** 9} (half of {2.0 ** 10}): call scaler.update() once "
                     "per step")
    # the return type is another check's business: a float or a one-element tensor will do
    finite = (type(value) is float and math.isfinite(value)) or (
        type(value) is torch.Tensor and value.numel() == 1 and bool(torch.isfinite(value).all()))
    _require(finite,
             lambda: f"{call} with an inf gradient returned {h.describe(value)}; expected the "
                     "finite loss of the batch")
    s.model.inject_inf = False                     # the next, clean step must train again
    s.model.zero_grad(set_to_none=True)            # (leftover gradients: another check's job)
    _, call = s.candidate_step(1, max_grad_norm=max_norm)
    moved = any(not torch.equal(p.detach(), s.initial[n].to(p.dtype))
                for n, p in s.model.named_parameters())
    h.check(moved, f"{call}: a clean step after a skipped one left the parameters unchanged")


@pytest.mark.points(2)
def test_overflow_skips_update_and_halves_scale():
    """an inf gradient skips the update and halves the scale"""
    _check_overflow_step(None)


def test_overflow_with_clipping_skips_update():
    """with max_grad_norm set, an inf gradient still skips the update"""
    _check_overflow_step(1.0)


def test_scaler_update_once_per_step():
    """scaler.update() runs exactly once per step"""
    s = Setup(seed=8, scaler_kwargs={"init_scale": 2.0 ** 8, "growth_interval": 1})
    for k in range(3):
        _, call = s.candidate_step(k)
        want = 2.0 ** (9 + k)
        got = s.scaler.get_scale()
        _require(got == want,
                 lambda: f"after {k + 1} call(s) of {call}, scaler.get_scale() is {got}; "
                         f"expected {want} (growth_interval=1 doubles it once per clean step): "
                         "scaler.update() must run exactly once per step, on the scaler "
                         "passed in")


def test_no_gradient_accumulation_across_steps():
    """gradients are cleared: no accumulation across steps"""
    # scale 1: a leftover (already unscaled) gradient would otherwise hide behind 1/scale.
    # Every step starts the twin from the candidate's current weights (and gets fresh
    # scalers), so each comparison is one clean SGD step on one batch.
    # gain 0.3: gradient norms well under 1, so that a step that clips when it should not
    # (another check's business) does not change these updates
    s = Setup(seed=9, optimizer="sgd", scaler_kwargs={"init_scale": 1.0}, gain=0.3)
    for k in range(3):
        s.new_scalers()
        s.sync_twin()
        s.reference_step(k)
        _, call = s.candidate_step(k)
        try:
            s.assert_update_matches(f"{k + 1} call(s) of train_step (SGD: each step applies "
                                    "the gradient of its own batch)", call)
        except h.CheckFailed as exc:
            raise h.CheckFailed(f"{exc}. The first call matched; did the gradients of the "
                                "previous step get cleared?" if k else str(exc)) from None


def test_returns_unscaled_loss_as_float():
    """returns the unscaled loss as a Python float"""
    s = Setup(seed=10, optimizer="adam", scaler_kwargs={"init_scale": 2.0 ** 14})
    for k in range(3):
        s.new_scalers()
        s.sync_twin()                              # the loss at the candidate's weights
        expected = s.reference_step(k)
        value, call = s.candidate_step(k)
        # 2%: the loss of a forward run at another precision is still "the loss loss_fn
        # returned" (the autocast check judges precision); a scaled loss is 2**14 times off
        _check_returned_loss(value, expected, call, rel_tol=0.02)


@pytest.mark.points(2)
@settings(max_examples=12, deadline=None, report_multiple_bugs=False,
          phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink))
@given(seed=st.integers(0, 10_000), d_in=st.integers(1, 6), hidden=st.integers(1, 10),
       classes=st.integers(2, 5), batch=st.integers(1, 6), steps=st.integers(2, 4),
       optimizer=st.sampled_from(sorted(_OPTIMIZERS)),
       max_norm=st.sampled_from([None, 0.05, 1.0]))
def test_trains_like_the_reference_loop(seed, d_in, hidden, classes, batch, steps, optimizer,
                                        max_norm):
    """combined: several steps train exactly like the reference AMP loop"""
    s = Setup(seed=seed, d_in=d_in, hidden=hidden, classes=classes, batch=batch,
              optimizer=optimizer)
    for k in range(steps):
        value, call = s.candidate_step(k, max_grad_norm=max_norm)
        expected = s.reference_step(k, max_grad_norm=max_norm)
        _check_returned_loss(value, expected, call)
        s.assert_params_match(f"{k + 1} call(s) of {call}")
    changed = any(not torch.equal(p.detach(), s.initial[n]) for n, p in s.twin.named_parameters())
    h.check(changed, "the reference loop did not change the parameters: the optimizer or "
                     "GradScaler was tampered with")
