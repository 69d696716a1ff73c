"""Wrong: trains correctly but returns this rank's own loss, not the global mean.

Caught by: test_returns_global_mean_loss
"""

import torch.distributed as dist


def dp_train_step(model, inputs, targets, loss_fn, optimizer) -> float:
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= dist.get_world_size()
    optimizer.step()
    return loss.item()
