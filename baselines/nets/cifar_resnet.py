"""The CIFAR ResNets of Cohen et al. (2019): depth 6n + 2, basic blocks (He et al. 2016).

A 3x3 convolution to 16 channels, three stages of ``n`` basic blocks at 16, 32 and 64
channels (the first block of stages 2 and 3 halves the resolution and projects the
shortcut with a 1x1 convolution and batch norm), an 8x8 average pool and a linear layer.
ResNet-20 has n = 3 (0.27 million parameters), ResNet-110 n = 18 (1.7 million).

Module names reproduce the state_dict keys of Cohen et al.'s checkpoints (``conv1``,
``bn1``, ``layer{1,2,3}.{i}.{conv1,bn1,conv2,bn2,downsample.0,downsample.1}``, ``fc``);
their models are ``Sequential(NormalizeLayer, CifarResNet)``, so every key starts ``1.``.
"""

from __future__ import annotations

import torch
from torch import nn


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


class CifarBasicBlock(nn.Module):
    """``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``; the shortcut is the
    identity, or ``downsample`` (1x1 convolution and batch norm) where the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = _conv3x3(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample: nn.Module | None = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(cout),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)

    def residual_parts(self) -> tuple[nn.Module, nn.Module, nn.Module, nn.Module]:
        """``(pre, body, shortcut, post)``: forward is ``post(body(h) + shortcut(h))``,
        ``h = pre(x)``."""
        body = nn.Sequential(self.conv1, self.bn1, nn.ReLU(), self.conv2, self.bn2)
        shortcut = nn.Identity() if self.downsample is None else self.downsample
        return nn.Identity(), body, shortcut, nn.ReLU()


class CifarResNet(nn.Module):
    """ResNet-``depth`` for 3x32x32 inputs (already normalized), ``depth = 6n + 2``."""

    def __init__(self, depth: int, num_classes: int = 10) -> None:
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"a CIFAR ResNet has depth 6n + 2 (20, 32, 44, 56, 110), got {depth}")
        n = (depth - 2) // 6
        self.depth = depth
        self.conv1 = _conv3x3(3, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.layer1 = self._stage(16, 16, n, stride=1)
        self.layer2 = self._stage(16, 32, n, stride=2)
        self.layer3 = self._stage(32, 64, n, stride=2)
        self.avgpool = nn.AvgPool2d(8)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(64, num_classes)

    @staticmethod
    def _stage(cin: int, cout: int, blocks: int, stride: int) -> nn.Sequential:
        first = CifarBasicBlock(cin, cout, stride)
        return nn.Sequential(first, *(CifarBasicBlock(cout, cout) for _ in range(blocks - 1)))

    def forward_sequence(self) -> list[nn.Module]:
        """The modules whose composition is ``forward`` (children in registration order)."""
        return list(self.children())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.flatten(self.avgpool(x)))
