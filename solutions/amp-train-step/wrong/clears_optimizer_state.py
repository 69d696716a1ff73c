"""Wrong: clears the optimizer's state (momentum buffers, Adam's moments) at every call, as
if each step used a fresh optimizer. Plain SGD is unaffected; momentum and Adam train
differently from the reference loop from the second step on.

Caught by: test_trains_like_the_reference_loop
"""

import torch


def train_step(model, batch, loss_fn, optimizer, scaler, *, device_type="cuda",
               dtype=torch.float16, max_grad_norm=None):
    inputs, targets = batch
    optimizer.zero_grad(set_to_none=True)
    optimizer.state.clear()                             # "a clean slate" every step
    with torch.autocast(device_type=device_type, dtype=dtype):
        loss = loss_fn(model(inputs), targets)
    scaler.scale(loss).backward()
    if max_grad_norm is not None:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
