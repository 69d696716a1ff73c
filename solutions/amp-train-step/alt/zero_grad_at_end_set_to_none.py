"""Alternative: gradients cleared at the END of the step with a plain optimizer.zero_grad()
(set_to_none=True by default, so every .grad is None when the call returns), the README's
"clear gradients at the start or at the end of the step: both are fine"."""

import torch


def train_step(model, batch, loss_fn, optimizer, scaler, *, device_type="cuda",
               dtype=torch.float16, max_grad_norm=None):
    inputs, targets = batch
    with torch.autocast(device_type=device_type, dtype=dtype):
        loss = loss_fn(model(inputs), targets)
    scaler.scale(loss).backward()
    if max_grad_norm is not None:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad()                          # default set_to_none=True: .grad is None now
    return loss.item()
