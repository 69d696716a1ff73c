"""Wrong: shuffles the images every epoch but indexes the labels in the original order, so
each image is trained against another image's label.

Caught by: test_heldout_accuracy_at_least_90_percent, test_heldout_accuracy_at_least_97_percent
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def build_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
    )


def fit(model, images, labels):
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(30):
        perm = torch.randperm(len(images))
        for i in range(0, len(images), 32):
            x = images[perm[i:i + 32]]
            y = labels[i:i + 32]                       # BUG: not permuted with the images
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
    return model.eval()
