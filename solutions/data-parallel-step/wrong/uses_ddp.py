"""Wrong: lets DistributedDataParallel do the averaging (forbidden in this exercise).

Caught by: test_gradients_are_averaged_2_ranks, test_gradients_are_averaged_3_ranks, test_one_step_matches_big_batch_2_ranks
"""

import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

_replicas = {}


def dp_train_step(model, inputs, targets, loss_fn, optimizer) -> float:
    ddp = _replicas.setdefault(id(model), DistributedDataParallel(model))
    optimizer.zero_grad()
    loss = loss_fn(ddp(inputs), targets)
    loss.backward()                      # DDP's hooks all-reduce and average the gradients
    optimizer.step()
    total = loss.detach().clone()
    dist.all_reduce(total)
    return total.item() / dist.get_world_size()
