"""Wrong: build_model() returns a small CNN, but fit() trains and returns another,
oversized one (about 600k parameters): the budget applies to the model that predicts.
It must lose the budget point and nothing else.

Caught by: test_parameter_budget
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class DigitNet(nn.Module):
    """(N, 1, 8, 8) in [0, 1] -> (N, 10) logits."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)    # (N, 16, 8, 8)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)   # (N, 32, 8, 8) -> pool -> (N, 32, 4, 4)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)   # (N, 64, 4, 4) -> pool -> (N, 64, 2, 2)
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(64 * 2 * 2, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.max_pool2d(F.relu(self.conv3(x)), 2)
        return self.fc(self.drop(x.flatten(1)))        # (N, 256) -> (N, 10)


def build_model() -> nn.Module:
    return DigitNet()


class BigNet(nn.Module):
    """The model fit() really trains: about 600k parameters."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(128 * 4 * 4, 256), nn.ReLU(),
                                  nn.Linear(256, 10))

    def forward(self, x):
        return self.head(self.features(x))


def fit(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
        epochs: int = 8, batch_size: int = 64, lr: float = 1e-3) -> nn.Module:
    model = BigNet()                                   # not the model it was given
    n = images.shape[0]
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * ((n + batch_size - 1) // batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n)                      # one permutation for images AND labels
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            x, y = images[idx], labels[idx]            # (B, 1, 8, 8), (B,)
            # augmentation: shift the whole batch by up to one pixel (digits have empty borders)
            dy, dx = torch.randint(-1, 2, (2,)).tolist()
            x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    return model.eval()
