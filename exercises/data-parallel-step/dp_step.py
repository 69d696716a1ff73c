"""Synchronous data-parallel SGD by hand.

Fill in `dp_train_step`. Read README.md for the full task.
"""

import torch
import torch.distributed as dist


def dp_train_step(model, inputs, targets, loss_fn, optimizer) -> float:
    """One synchronous data-parallel training step, called on every rank at the same time.

    The default process group is already initialised (dist.get_rank(), dist.get_world_size()),
    and every rank holds an identical copy of `model` and of `optimizer`'s state.

    Args:
        model: the rank's replica (an nn.Module, float32 parameters).
        inputs: this rank's shard of the global batch, e.g. (B, D) float32;
            every rank gets a shard of the same size B.
        targets: this rank's targets, e.g. (B,) int64 or (B, K) float32.
        loss_fn: callable(outputs, targets) -> scalar loss, the mean over the shard.
        optimizer: a torch.optim optimizer over model's trainable parameters.

    Returns:
        The loss averaged over all ranks (the mean loss of the whole global batch) as a
        Python float, the same value on every rank.

    On return every trainable parameter's .grad holds the gradient averaged over the ranks
    (the one the optimizer applied); parameters whose .grad is None are left alone.
    """
    # TODO: clear grads, local forward + backward, average every gradient over the ranks
    #       (dist.all_reduce), then optimizer.step(); return the global mean loss.
    raise NotImplementedError("dp_train_step")
