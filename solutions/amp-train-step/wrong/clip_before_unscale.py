"""Wrong: clips the *scaled* gradients (norm inflated by the scale), so the real update is
max_grad_norm / scale: almost nothing.

Caught by: test_clipping_uses_unscaled_gradients, test_trains_like_the_reference_loop
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
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        scaler.unscale_(optimizer)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
