"""Alternative: one all_reduce for everything. The gradients and the loss are flattened
into a single buffer (fewer, larger messages: what DDP's gradient buckets do), reduced
once, averaged, and copied back."""

import torch
import torch.distributed as dist


def dp_train_step(model, inputs, targets, loss_fn, optimizer) -> float:
    for p in model.parameters():
        p.grad = None
    loss = loss_fn(model(inputs), targets)
    loss.backward()

    grads = [p.grad for p in model.parameters() if p.grad is not None]
    bucket = torch.cat([g.reshape(-1) for g in grads] + [loss.detach().reshape(1)])
    dist.all_reduce(bucket)                          # SUM by default
    bucket /= dist.get_world_size()

    offset = 0
    for g in grads:
        g.copy_(bucket[offset:offset + g.numel()].view_as(g))
        offset += g.numel()
    optimizer.step()
    return bucket[-1].item()
