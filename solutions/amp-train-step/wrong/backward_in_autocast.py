"""Wrong: backward (and the optimizer step) run inside the autocast block.

Caught by: test_backward_outside_autocast
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
        scaler.update()
    return loss.item()
