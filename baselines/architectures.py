"""Model architectures by name (inputs in [0, 1]; a model normalizes inside).

``ARCHITECTURES`` maps a name to an ``Architecture``: a builder with random weights, the
dataset whose inputs it takes, and where it comes from. The names of Cohen et al.'s code
are kept (``cifar_resnet20``, ``cifar_resnet110``, ``resnet50``), so the ``arch`` field of
their checkpoints names the model to build: ``Sequential(NormalizeLayer, network)``,
whose state_dict keys start with ``1.``. Salman et al.'s first SmoothAdv release trained
the same networks behind a centring layer (``x - mean``, no division by the std):
``cifar_resnet110_centered`` and ``resnet50_centered``, whose checkpoints store the
plain names (``Architecture.checkpoint_arch``). Nothing in a checkpoint tells the two
apart: the wrong first layer loads without error and classifies badly.
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
    centering_layer,
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


def cifar_resnet(depth: int, centered: bool = False) -> nn.Sequential:
    """Cohen et al.'s CIFAR-10 model: ``Sequential(NormalizeLayer(CIFAR-10), ResNet-depth)``;
    ``centered``: Salman et al.'s, ``Sequential(centering_layer(CIFAR-10 mean), ...)``."""
    first = centering_layer(CIFAR10_MEAN) if centered else NormalizeLayer(CIFAR10_MEAN, CIFAR10_STD)
    return nn.Sequential(first, CifarResNet(depth))


def imagenet_resnet50(centered: bool = False) -> nn.Sequential:
    """Cohen et al.'s ImageNet model: ``Sequential(NormalizeLayer(ImageNet), resnet50)``,
    torchvision's ResNet-50 (He et al. 2016) with random weights. Their checkpoints wrap
    the network in ``DataParallel`` (keys ``1.module.``); the loaders drop that level.
    ``centered``: Salman et al.'s, the ImageNet mean subtracted and no division."""
    from torchvision.models import resnet50

    first = (
        centering_layer(IMAGENET_MEAN) if centered else NormalizeLayer(IMAGENET_MEAN, IMAGENET_STD)
    )
    return nn.Sequential(first, resnet50(weights=None))


@dataclass(frozen=True)
class Architecture:
    """A named architecture: ``build()`` returns it with random weights."""

    build: Callable[[], nn.Module]
    dataset: str
    summary: str
    #: the ``arch`` its authors' checkpoints store, where it is another name's
    checkpoint_arch: str | None = None

    def stored_as(self, name: str) -> str:
        """The ``arch`` a checkpoint of this architecture (named ``name``) stores."""
        return self.checkpoint_arch or name


ARCHITECTURES: dict[str, Architecture] = {
    "mlp": Architecture(DigitsMLP, "digits", "the embedded digits MLP (64-256-256-10)"),
    "cifar_resnet20": Architecture(
        lambda: cifar_resnet(20), "cifar10", "Cohen et al.'s CIFAR ResNet-20, normalization first"
    ),
    "cifar_resnet110": Architecture(
        lambda: cifar_resnet(110), "cifar10", "Cohen et al.'s CIFAR ResNet-110, normalization first"
    ),
    "cifar_resnet110_centered": Architecture(
        lambda: cifar_resnet(110, centered=True),
        "cifar10",
        "Salman et al.'s first-release CIFAR ResNet-110: the mean subtracted, no division",
        checkpoint_arch="cifar_resnet110",
    ),
    "resnet50": Architecture(
        imagenet_resnet50, "imagenet", "torchvision's ResNet-50, ImageNet normalization first"
    ),
    "resnet50_centered": Architecture(
        lambda: imagenet_resnet50(centered=True),
        "imagenet",
        "Salman et al.'s first-release ResNet-50: the ImageNet mean subtracted, no division",
        checkpoint_arch="resnet50",
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
