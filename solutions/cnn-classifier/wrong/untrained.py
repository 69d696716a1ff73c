"""Wrong: a fine CNN, but fit() returns it without training it.

Caught by: test_heldout_accuracy_at_least_90_percent, test_heldout_accuracy_at_least_97_percent
"""

import torch.nn as nn


def build_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
    )


def fit(model, images, labels):
    model.train()
    return model
