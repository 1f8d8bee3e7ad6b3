"""The networks of the published baselines, written for their checkpoints' key layouts:
Cohen et al.'s CIFAR ResNets, torchvision's ResNet-50, TRADES' WideResNet-34-10, and the
per-channel normalization layer such models put first (``baselines.architectures``
names them).

Residual blocks follow one protocol so that a bound-propagation method can walk them
without importing them: ``residual_parts() -> (pre, body, shortcut, post)`` with
``forward(x) == post(body(h) + shortcut(h))``, ``h = pre(x)``; the normalization layer
states ``channel_affine() -> (weight, bias)`` with ``forward(x) == x * weight[c] + bias[c]``.
The whole networks state ``forward_sequence()``, the modules whose composition is their
forward.
"""

from baselines.nets.cifar_resnet import CifarBasicBlock, CifarResNet
from baselines.nets.normalize import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    IMAGENET_MEAN,
    IMAGENET_STD,
    NormalizeLayer,
    centering_layer,
)
from baselines.nets.wide_resnet import WideBasicBlock, WideResNet

__all__ = [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "CifarBasicBlock",
    "CifarResNet",
    "NormalizeLayer",
    "WideBasicBlock",
    "WideResNet",
    "centering_layer",
]
