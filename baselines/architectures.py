"""Model architectures for the embedded default (inputs in [0, 1])."""

from __future__ import annotations

import torch
from torch import nn


class DigitsMLP(nn.Module):
    """A small MLP for 1x8x8 digits: centre the pixels, then 64 -> 256 -> 256 -> 10."""

    def __init__(self, hidden: int = 256, num_classes: int = 10) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x - 0.5)


ARCHITECTURES = {"mlp": DigitsMLP}


def build(arch: str) -> nn.Module:
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; known: {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[arch]()
