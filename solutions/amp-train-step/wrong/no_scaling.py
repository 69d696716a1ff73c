"""Wrong: plain float32-style step under autocast; the GradScaler is never used, so small
float16 gradients underflow and an inf gradient corrupts the weights.

Caught by: test_loss_is_scaled_before_backward, test_overflow_skips_update_and_halves_scale, test_scaler_update_once_per_step
"""

import torch


def train_step(model, batch, loss_fn, optimizer, scaler, *, device_type="cuda",
               dtype=torch.float16, max_grad_norm=None):
    inputs, targets = batch
    optimizer.zero_grad()
    with torch.autocast(device_type, dtype=dtype):
        loss = loss_fn(model(inputs), targets)
    loss.backward()
    if max_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    return loss.item()
