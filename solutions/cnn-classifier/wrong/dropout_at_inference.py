"""Wrong: applies dropout with F.dropout(training=True) in forward, so even in eval mode
predictions are random (and worse).

Caught by: test_trained_model_predicts_in_eval_mode
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 4 * 4, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        return self.fc(F.dropout(x.flatten(1), p=0.5, training=True))   # BUG: always on


def build_model() -> nn.Module:
    return Net()


def fit(model, images, labels):
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(20):
        perm = torch.randperm(len(images))
        for i in range(0, len(images), 32):
            idx = perm[i:i + 32]
            opt.zero_grad()
            F.cross_entropy(model(images[idx]), labels[idx]).backward()
            opt.step()
    return model.eval()
