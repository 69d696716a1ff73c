"""Wrong: unscales, then calls optimizer.step() directly: the inf/NaN check of scaler.step
is bypassed, so an overflowing step writes inf/NaN into the weights.

Caught by: test_overflow_skips_update_and_halves_scale
"""

import torch


def train_step(model, batch, loss_fn, optimizer, scaler, *, device_type="cuda",
               dtype=torch.float16, max_grad_norm=None):
    inputs, targets = batch
    optimizer.zero_grad()
    with torch.autocast(device_type, dtype=dtype):
        loss = loss_fn(model(inputs), targets)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    if max_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    scaler.update()
    return loss.item()
