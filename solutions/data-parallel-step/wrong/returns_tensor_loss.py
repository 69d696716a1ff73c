"""Wrong: a correct step that returns the global mean loss as a 0-d tensor, not a Python
float.

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
    total = loss.detach().clone()
    dist.all_reduce(total)
    return total / dist.get_world_size()
