"""Wrong: averages only the weight matrices (ndim > 1); biases and other vectors keep
each rank's local gradient.

Caught by: test_gradients_are_averaged_2_ranks, test_gradients_are_averaged_3_ranks, test_one_step_matches_big_batch_2_ranks
"""

import torch.distributed as dist


def dp_train_step(model, inputs, targets, loss_fn, optimizer) -> float:
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    for p in model.parameters():
        if p.grad is not None and p.ndim > 1:
            dist.all_reduce(p.grad)
            p.grad /= dist.get_world_size()
    optimizer.step()
    total = loss.detach().clone()
    dist.all_reduce(total)
    return total.item() / dist.get_world_size()
