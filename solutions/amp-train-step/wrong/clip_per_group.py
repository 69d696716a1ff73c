"""Wrong: clips each optimizer param group to max_grad_norm separately, instead of the
total norm over all parameters (identical with one group, wrong with several).

Caught by: test_clip_total_norm_across_groups
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
        for group in optimizer.param_groups:
            torch.nn.utils.clip_grad_norm_(group["params"], max_grad_norm)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
