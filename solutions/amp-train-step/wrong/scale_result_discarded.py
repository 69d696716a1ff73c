"""Wrong: calls scaler.scale(loss) but backpropagates the unscaled loss: scale() returns a
new tensor, it does not scale `loss` in place. Gradients are never multiplied by the scale
(small float16 gradients underflow), and scaler.step then divides them by it anyway.

Caught by: test_loss_is_scaled_before_backward
"""

import torch


def train_step(model, batch, loss_fn, optimizer, scaler, *, device_type="cuda",
               dtype=torch.float16, max_grad_norm=None):
    inputs, targets = batch
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type=device_type, dtype=dtype):
        loss = loss_fn(model(inputs), targets)
    scaler.scale(loss)                                  # result discarded
    loss.backward()
    if max_grad_norm is not None:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
