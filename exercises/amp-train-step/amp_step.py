"""One mixed-precision training step.

Fill in `train_step`. Read README.md for the full task.
"""

import torch


def train_step(model, batch, loss_fn, optimizer, scaler, *, device_type="cuda",
               dtype=torch.float16, max_grad_norm=None):
    """Run one optimisation step of `model` on `batch` with automatic mixed precision.

    Args:
        model: an nn.Module whose parameters are float32 (and must stay float32).
        batch: a pair (inputs, targets); inputs e.g. (N, D) float32, targets e.g. (N,) int64.
        loss_fn: callable(outputs, targets) -> scalar loss tensor (mean over the batch).
        optimizer: a torch.optim optimizer over model's parameters.
        scaler: a torch.amp.GradScaler for `device_type`.
        device_type: "cuda" or "cpu", the device type autocast runs on.
        dtype: the autocast dtype (torch.float16 on CUDA, torch.bfloat16 on CPU).
        max_grad_norm: if not None, clip the total gradient norm (over all of the model's
            parameters) to this value, measured on the true (unscaled) gradients.

    Returns:
        The loss of this batch as a Python float (not scaled).
    """
    # TODO: forward and loss under autocast, scaled backward outside it,
    #       optional clipping on unscaled gradients, scaler.step, scaler.update,
    #       and no gradient left over for the next step.
    raise NotImplementedError("train_step")
