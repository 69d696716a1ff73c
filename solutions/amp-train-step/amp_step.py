"""One mixed-precision training step (reference solution).

The recipe from PyTorch's AMP notes: autocast around forward and loss only, a scaled
backward, unscale before anything reads gradient values, scaler.step + scaler.update.
"""

import torch


def train_step(model, batch, loss_fn, optimizer, scaler, *, device_type="cuda",
               dtype=torch.float16, max_grad_norm=None):
    inputs, targets = batch
    optimizer.zero_grad(set_to_none=True)          # no gradient carried over from the last step

    # Forward and loss in mixed precision: autocast picks float16/bfloat16 per op
    # (matmuls, convs) and float32 where range matters (softmax, losses).
    with torch.autocast(device_type=device_type, dtype=dtype):
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)

    # Backward outside autocast: each backward op already runs in its forward op's dtype.
    # Scaling the loss by S scales every gradient by S, keeping small float16 gradients
    # from flushing to zero.
    scaler.scale(loss).backward()

    if max_grad_norm is not None:
        scaler.unscale_(optimizer)                 # grads /= S, in place; records inf/NaN
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)

    scaler.step(optimizer)                         # unscales if needed; skips on inf/NaN
    scaler.update()                                # halve the scale on inf/NaN, grow it after clean runs
    return loss.item()
