"""Partial: a correct AMP step that does not implement max_grad_norm.

Missing: clipping (max_grad_norm). Allowed to fail: test_clipping_uses_unscaled_gradients, test_clip_total_norm_across_groups, test_overflow_with_clipping_skips_update, test_trains_like_the_reference_loop
"""

import torch


def train_step(model, batch, loss_fn, optimizer, scaler, *, device_type="cuda",
               dtype=torch.float16, max_grad_norm=None):
    if max_grad_norm is not None:
        raise NotImplementedError("max_grad_norm")
    inputs, targets = batch
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type=device_type, dtype=dtype):
        loss = loss_fn(model(inputs), targets)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
