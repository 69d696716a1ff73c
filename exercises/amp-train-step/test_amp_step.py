"""Public sample tests for amp_step.train_step (CPU: autocast with bfloat16).

Run: pytest test_amp_step.py
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from amp_step import train_step


def make(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu")
    batch = (torch.randn(5, 4), torch.tensor([0, 1, 2, 1, 0]))
    return model, optimizer, scaler, batch


def test_returns_the_loss_and_updates_float32_weights():
    model, optimizer, scaler, batch = make()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        expected = F.cross_entropy(model(batch[0]), batch[1]).item()
    before = [p.detach().clone() for p in model.parameters()]

    loss = train_step(model, batch, F.cross_entropy, optimizer, scaler,
                      device_type="cpu", dtype=torch.bfloat16)

    assert type(loss) is float
    assert math.isclose(loss, expected, rel_tol=1e-5)
    for p, old in zip(model.parameters(), before):
        assert p.dtype == torch.float32
        assert not torch.equal(p, old)


def test_an_inf_gradient_skips_the_step_and_halves_the_scale():
    model, optimizer, scaler, batch = make(1)
    model[0].weight.register_hook(lambda g: g * float("inf"))
    before = [p.detach().clone() for p in model.parameters()]

    loss = train_step(model, batch, F.cross_entropy, optimizer, scaler,
                      device_type="cpu", dtype=torch.bfloat16)

    assert math.isfinite(loss)
    for p, old in zip(model.parameters(), before):
        assert torch.equal(p, old)
    assert scaler.get_scale() == 2.0 ** 15


def test_clipping_limits_the_update():
    model, optimizer, scaler, batch = make(2)
    before = [p.detach().clone() for p in model.parameters()]

    train_step(model, batch, F.cross_entropy, optimizer, scaler,
               device_type="cpu", dtype=torch.bfloat16, max_grad_norm=1e-3)

    # SGD(lr=0.1): the update is lr * the clipped gradient; this batch's gradient norm is
    # far above 1e-3, so the clipped gradient has norm 1e-3 exactly
    step = torch.cat([(p.detach() - old).flatten() for p, old in zip(model.parameters(), before)])
    assert math.isclose(step.norm().item(), 0.1 * 1e-3, rel_tol=0.02)
