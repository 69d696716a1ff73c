"""Wrong: steps with the local gradient, then averages (too late: the update is done).

Caught by: test_one_step_matches_big_batch_2_ranks, test_one_step_matches_big_batch_3_ranks, test_several_steps_match_big_batch_2_ranks
"""

import torch.distributed as dist


def dp_train_step(model, inputs, targets, loss_fn, optimizer) -> float:
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= dist.get_world_size()
    total = loss.detach().clone()
    dist.all_reduce(total)
    return total.item() / dist.get_world_size()
