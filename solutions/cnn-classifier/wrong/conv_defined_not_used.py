"""Wrong: an accurate MLP that also defines an nn.Conv2d it never calls: the model is not
convolutional (the conv must take part in forward). It must lose the convolutional point
and nothing else.

Caught by: test_model_is_convolutional
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class NotReallyConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)       # defined, never used
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.mlp(x)


def build_model() -> nn.Module:
    return NotReallyConv()


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
