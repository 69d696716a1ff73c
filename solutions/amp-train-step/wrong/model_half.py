"""Wrong: casts the model itself to the low-precision dtype (model.half() on CUDA): the
optimizer then updates float16/bfloat16 master weights, and small updates round away.

Caught by: test_weights_and_optimizer_state_stay_float32, test_trains_like_the_reference_loop
"""

import torch


def train_step(model, batch, loss_fn, optimizer, scaler, *, device_type="cuda",
               dtype=torch.float16, max_grad_norm=None):
    inputs, targets = batch
    model.to(dtype)
    optimizer.zero_grad()
    with torch.autocast(device_type, dtype=dtype):
        loss = loss_fn(model(inputs.to(dtype)), targets)
    scaler.scale(loss).backward()
    if max_grad_norm is not None:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
