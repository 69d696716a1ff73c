"""Wrong: an accurate but oversized CNN (about 600k parameters, budget 50k).

Caught by: test_parameter_budget
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def build_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # (N, 128, 4, 4)
        nn.Flatten(), nn.Linear(128 * 4 * 4, 256), nn.ReLU(), nn.Linear(256, 10),
    )


def fit(model, images, labels):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(8):
        perm = torch.randperm(len(images))
        for i in range(0, len(images), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            F.cross_entropy(model(images[idx]), labels[idx]).backward()
            opt.step()
    return model.eval()
