"""Model architectures by name (inputs in [0, 1]; a model normalizes inside).

``ARCHITECTURES`` maps a name to an ``Architecture``: a builder with random weights, the
dataset whose inputs it takes, and where it comes from. The names of Cohen et al.'s code
are kept (``cifar_resnet20``, ``cifar_resnet110``, ``resnet50``), so the ``arch`` field of
their checkpoints names the model to build: ``Sequential(NormalizeLayer, network)``,
whose state_dict keys start with ``1.``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from baselines.nets import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    IMAGENET_MEAN,
    IMAGENET_STD,
    CifarResNet,
    NormalizeLayer,
    WideResNet,
)
from smoothbench.names import unknown_name


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


def cifar_resnet(depth: int) -> nn.Sequential:
    """Cohen et al.'s CIFAR-10 model: ``Sequential(NormalizeLayer(CIFAR-10), ResNet-depth)``."""
    return nn.Sequential(NormalizeLayer(CIFAR10_MEAN, CIFAR10_STD), CifarResNet(depth))


def imagenet_resnet50() -> nn.Sequential:
    """Cohen et al.'s ImageNet model: ``Sequential(NormalizeLayer(ImageNet), resnet50)``,
    torchvision's ResNet-50 (He et al. 2016) with random weights. Their checkpoints wrap
    the network in ``DataParallel`` (keys ``1.module.``); the loaders drop that level."""
    from torchvision.models import resnet50

    return nn.Sequential(NormalizeLayer(IMAGENET_MEAN, IMAGENET_STD), resnet50(weights=None))


@dataclass(frozen=True)
class Architecture:
    """A named architecture: ``build()`` returns it with random weights."""

    build: Callable[[], nn.Module]
    dataset: str
    summary: str


ARCHITECTURES: dict[str, Architecture] = {
    "mlp": Architecture(DigitsMLP, "digits", "the embedded digits MLP (64-256-256-10)"),
    "cifar_resnet20": Architecture(
        lambda: cifar_resnet(20), "cifar10", "Cohen et al.'s CIFAR ResNet-20, normalization first"
    ),
    "cifar_resnet110": Architecture(
        lambda: cifar_resnet(110), "cifar10", "Cohen et al.'s CIFAR ResNet-110, normalization first"
    ),
    "resnet50": Architecture(
        imagenet_resnet50, "imagenet", "torchvision's ResNet-50, ImageNet normalization first"
    ),
    "trades_wrn34_10": Architecture(
        lambda: WideResNet(34, 10), "cifar10", "TRADES' WideResNet-34-10 (no normalization)"
    ),
}


def architecture(arch: str) -> Architecture:
    if arch not in ARCHITECTURES:
        raise ValueError(unknown_name("architecture", arch, ARCHITECTURES))
    return ARCHITECTURES[arch]


def build(arch: str) -> nn.Module:
    """Architecture ``arch`` with random weights."""
    return architecture(arch).build()
