"""Wrong: dist.reduce(..., dst=0) instead of all_reduce: only rank 0 receives the summed
gradients and applies the big-batch update; every other rank steps on its own (partly
summed) gradient and the replicas drift apart.

Caught by: test_ranks_stay_identical
"""

import torch.distributed as dist


def dp_train_step(model, inputs, targets, loss_fn, optimizer) -> float:
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    for p in model.parameters():
        if p.grad is not None:
            dist.reduce(p.grad, dst=0)
            p.grad /= dist.get_world_size()
    optimizer.step()
    total = loss.detach().clone()
    dist.all_reduce(total)
    return total.item() / dist.get_world_size()
