"""Wrong: returns the scaled loss (loss * scale) instead of the loss itself.

Caught by: test_returns_unscaled_loss_as_float, test_trains_like_the_reference_loop
"""

import torch


def train_step(model, batch, loss_fn, optimizer, scaler, *, device_type="cuda",
               dtype=torch.float16, max_grad_norm=None):
    inputs, targets = batch
    optimizer.zero_grad()
    with torch.autocast(device_type, dtype=dtype):
        loss = loss_fn(model(inputs), targets)
    scaled = scaler.scale(loss)
    scaled.backward()
    if max_grad_norm is not None:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    scaler.step(optimizer)
    scaler.update()
    return scaled.item()
