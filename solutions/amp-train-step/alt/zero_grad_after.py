"""Alternative: gradients zeroed (not freed) at the end of the step, clipping over the
optimizer's parameter groups, the loss read with float(loss.detach())."""

import torch
from torch.nn.utils import clip_grad_norm_


def train_step(model, batch, loss_fn, optimizer, scaler, *, device_type="cuda",
               dtype=torch.float16, max_grad_norm=None):
    inputs, targets = batch
    with torch.autocast(device_type, dtype=dtype):
        loss = loss_fn(model(inputs), targets)
    scaled = scaler.scale(loss)
    scaled.backward()
    if max_grad_norm is not None:
        scaler.unscale_(optimizer)
        params = [p for group in optimizer.param_groups for p in group["params"]]
        clip_grad_norm_(params, max_norm=max_grad_norm)
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=False)         # ready for the next step
    return float(loss.detach())
