"""Wrong: averages the loss across ranks and back-propagates that. all_reduce is not part
of the autograd graph, so every rank still gets only its own shard's gradient and the
replicas drift apart.

Caught by: test_gradients_are_averaged_2_ranks, test_gradients_are_averaged_3_ranks, test_one_step_matches_big_batch_2_ranks
"""

import torch.distributed as dist


def dp_train_step(model, inputs, targets, loss_fn, optimizer) -> float:
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    dist.all_reduce(loss)
    loss = loss / dist.get_world_size()
    loss.backward()
    optimizer.step()
    return loss.item()
