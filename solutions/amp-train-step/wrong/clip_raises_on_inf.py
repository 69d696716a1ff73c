"""Wrong: clips with error_if_nonfinite=True "to be safe": on an overflowing step (inf
gradients, which the GradScaler exists to handle by skipping the step and lowering the
scale) clipping raises instead, and training stops.

Caught by: test_overflow_with_clipping_skips_update
"""

import torch


def train_step(model, batch, loss_fn, optimizer, scaler, *, device_type="cuda",
               dtype=torch.float16, max_grad_norm=None):
    inputs, targets = batch
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type=device_type, dtype=dtype):
        loss = loss_fn(model(inputs), targets)
    scaler.scale(loss).backward()
    if max_grad_norm is not None:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm,
                                       error_if_nonfinite=True)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
