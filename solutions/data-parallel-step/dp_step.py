"""Synchronous data-parallel SGD by hand (reference solution).

Each rank computes the gradient of its shard's mean loss; averaging those gradients over
equal shards gives the gradient of the whole batch's mean loss, so every replica applies
the same update and the replicas stay identical.
"""

import torch.distributed as dist


def dp_train_step(model, inputs, targets, loss_fn, optimizer) -> float:
    world_size = dist.get_world_size()
    optimizer.zero_grad(set_to_none=True)            # fresh gradients for this step

    loss = loss_fn(model(inputs), targets)           # mean over this rank's shard
    loss.backward()                                  # local gradients

    for p in model.parameters():
        if p.grad is None:                           # frozen or unused in forward
            continue
        dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)  # same order on every rank
        p.grad /= world_size                         # sum of shard means -> mean

    optimizer.step()                                 # identical update everywhere

    global_loss = loss.detach().clone()
    dist.all_reduce(global_loss, op=dist.ReduceOp.SUM)
    return (global_loss / world_size).item()
