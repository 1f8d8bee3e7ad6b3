"""The first layer that each named architecture actually builds.

``test_the_normalization_constants_are_the_authors`` pins the module constants, but not
which constants each builder puts in front of its network. The ImageNet reference is
torchvision's own: the preprocessing that ships with ResNet-50's ImageNet weights
(``ResNet50_Weights.IMAGENET1K_V1.transforms()``, mean and std), which Cohen et al.'s
``datasets.py`` copies; the CIFAR-10 reference is Cohen et al.'s ``datasets.py``.
"""

from __future__ import annotations

import pytest
import torch
from torchvision.models import ResNet50_Weights
from torchvision.transforms import functional as TF

from baselines.architectures import build

COHEN_CIFAR10_MEAN = [0.4914, 0.4822, 0.4465]
COHEN_CIFAR10_STD = [0.2023, 0.1994, 0.2010]


def _torchvision_imagenet_stats() -> tuple[list[float], list[float]]:
    preprocess = ResNet50_Weights.IMAGENET1K_V1.transforms()
    return list(preprocess.mean), list(preprocess.std)


@pytest.mark.parametrize(
    ("arch", "mean", "std", "size"),
    [
        ("resnet50", *_torchvision_imagenet_stats(), 16),
        ("resnet50_centered", _torchvision_imagenet_stats()[0], [1.0, 1.0, 1.0], 16),
        ("cifar_resnet20", COHEN_CIFAR10_MEAN, COHEN_CIFAR10_STD, 32),
        ("cifar_resnet110", COHEN_CIFAR10_MEAN, COHEN_CIFAR10_STD, 32),
        ("cifar_resnet110_centered", COHEN_CIFAR10_MEAN, [1.0, 1.0, 1.0], 32),
    ],
)
def test_each_architecture_puts_its_authors_input_layer_first(arch, mean, std, size):
    first = build(arch)[0]
    x = torch.rand(3, 3, size, size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(first(x), TF.normalize(x, mean, std), rtol=0, atol=1e-6)
