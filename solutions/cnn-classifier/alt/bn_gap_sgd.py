"""Alternative: conv-BatchNorm-ReLU blocks, global average pooling instead of a flatten,
SGD with Nesterov momentum and cosine decay, no augmentation."""

import torch
import torch.nn as nn
import torch.nn.functional as F


def block(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU())


def build_model() -> nn.Module:
    return nn.Sequential(
        block(1, 24), block(24, 32), nn.MaxPool2d(2),      # (N, 32, 4, 4)
        block(32, 48), nn.MaxPool2d(2),                    # (N, 48, 2, 2)
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),             # (N, 48)
        nn.Linear(48, 10),
    )


def fit(model, images, labels):
    epochs, batch = 30, 64
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(images))
        for i in range(0, len(images), batch):
            idx = perm[i:i + batch]
            if len(idx) < 2:                               # BatchNorm needs 2+ samples
                continue
            opt.zero_grad()
            F.cross_entropy(model(images[idx]), labels[idx]).backward()
            opt.step()
        sched.step()
    model.eval()
    return model
