"""Wrong: a correct step that clears the gradients at the END (optimizer.zero_grad(), so
every .grad is None on return): the README asks for the averaged gradient to stay in .grad
(clear at the start of a step, not at the end).

Caught by: test_gradients_are_averaged_2_ranks
"""

import torch.distributed as dist


def dp_train_step(model, inputs, targets, loss_fn, optimizer) -> float:
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= dist.get_world_size()
    optimizer.step()
    optimizer.zero_grad()                     # set_to_none=True: nothing left to inspect
    total = loss.detach().clone()
    dist.all_reduce(total)
    return total.item() / dist.get_world_size()
