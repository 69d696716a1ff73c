"""Wrong: gives every parameter without a gradient a zero .grad (so that every rank
all-reduces the same list of tensors) instead of skipping it: frozen and unused parameters
end the step with a gradient they never had (and optimizers with weight decay or momentum
would move them).

Caught by: test_parameters_without_grad_are_skipped
"""

import torch
import torch.distributed as dist


def dp_train_step(model, inputs, targets, loss_fn, optimizer) -> float:
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    for p in model.parameters():
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        dist.all_reduce(p.grad)
        p.grad /= dist.get_world_size()
    optimizer.step()
    total = loss.detach().clone()
    dist.all_reduce(total)
    return total.item() / dist.get_world_size()
