"""Wrong: assumes every parameter has a gradient; crashes on frozen or unused parameters.

Caught by: test_parameters_without_grad_are_skipped
"""

import torch.distributed as dist


def dp_train_step(model, inputs, targets, loss_fn, optimizer) -> float:
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    for p in model.parameters():
        dist.all_reduce(p.grad)
        p.grad /= dist.get_world_size()
    optimizer.step()
    total = loss.detach().clone()
    dist.all_reduce(total)
    return total.item() / dist.get_world_size()
