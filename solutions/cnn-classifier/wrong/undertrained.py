"""Wrong: one epoch of plain SGD with a tiny learning rate: the model barely moves from its
random initialisation.

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
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    model.train()
    for i in range(0, len(images), 64):
        opt.zero_grad()
        F.cross_entropy(model(images[i:i + 64]), labels[i:i + 64]).backward()
        opt.step()
    return model.eval()
