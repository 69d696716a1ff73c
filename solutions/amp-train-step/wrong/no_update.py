"""Wrong: never calls scaler.update(): the scale never backs off after an overflow (every
later step is skipped too) and never grows.

Caught by: test_overflow_skips_update_and_halves_scale, test_overflow_with_clipping_skips_update, test_scaler_update_once_per_step
"""

import torch


def train_step(model, batch, loss_fn, optimizer, scaler, *, device_type="cuda",
               dtype=torch.float16, max_grad_norm=None):
    inputs, targets = batch
    optimizer.zero_grad()
    with torch.autocast(device_type, dtype=dtype):
        loss = loss_fn(model(inputs), targets)
    scaler.scale(loss).backward()
    if max_grad_norm is not None:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    scaler.step(optimizer)
    return loss.item()
