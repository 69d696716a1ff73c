"""Wrong: a multilayer perceptron on the flattened pixels; accurate, but no convolution.

Caught by: test_model_is_convolutional
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def build_model() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


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
