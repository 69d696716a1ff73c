"""Wrong: "convolutional" with 1x1 kernels only: a 1x1 conv mixes channels at one pixel and
sees no neighbourhood, so this is a per-pixel MLP. It must lose the convolutional point and
nothing else.

Caught by: test_model_is_convolutional
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def build_model() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 8, 1), nn.ReLU(), nn.Flatten(),
                         nn.Linear(8 * 64, 64), nn.ReLU(), nn.Linear(64, 10))


def fit(model, images, labels):
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(40):
        perm = torch.randperm(len(images))
        for i in range(0, len(images), 32):
            idx = perm[i:i + 32]
            opt.zero_grad()
            F.cross_entropy(model(images[idx]), labels[idx]).backward()
            opt.step()
    return model.eval()
