"""Wrong: always clips, to 1.0 when max_grad_norm is None ("a safe default"): a caller
who asked for no clipping still gets clipped updates.

Caught by: test_no_clipping_without_max_grad_norm
"""

import torch


def train_step(model, batch, loss_fn, optimizer, scaler, *, device_type="cuda",
               dtype=torch.float16, max_grad_norm=None):
    inputs, targets = batch
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type=device_type, dtype=dtype):
        loss = loss_fn(model(inputs), targets)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(),
                                   1.0 if max_grad_norm is None else max_grad_norm)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
