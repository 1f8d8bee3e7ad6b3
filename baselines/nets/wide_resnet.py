"""The WideResNet of TRADES (Zhang et al. 2019): WRN-34-10 for 3x32x32 inputs in [0, 1].

Pre-activation wide basic blocks (Zagoruyko & Komodakis 2016): a 3x3 convolution to 16
channels, three groups of ``n = (depth - 4) / 6`` blocks at ``16k, 32k, 64k`` channels
(``k`` the widen factor; groups 2 and 3 start at stride 2), then batch norm, ReLU, an 8x8
average pool and a linear layer. No input normalization: TRADES trains on [0, 1] pixels.

Module names reproduce the state_dict keys of TRADES' published checkpoint
(``conv1``, ``block{1,2,3}.layer.{i}.{bn1,conv1,bn2,conv2,convShortcut}``, ``bn1``,
``fc``), including ``sub_block1``, a copy of ``block1`` that TRADES' network holds but
never applies; it is kept so that the checkpoint loads strictly, and left out of
``forward_sequence()``.
"""

from __future__ import annotations

import torch
from torch import nn


class WideBasicBlock(nn.Module):
    """Pre-activation block. Same width in and out: ``x + conv2(relu(bn2(conv1(relu(bn1(x))))))``.
    Otherwise the activation is shared: ``a = relu(bn1(x))``, ``convShortcut(a) +
    conv2(relu(bn2(conv1(a))))``."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, kernel_size=3, stride=1, padding=1, bias=False)
        self.equal_in_out = cin == cout
        if self.equal_in_out and stride != 1:
            raise ValueError("a block that keeps the width keeps the resolution (stride 1)")
        self.convShortcut: nn.Module | None = None
        if not self.equal_in_out:
            self.convShortcut = nn.Conv2d(cin, cout, kernel_size=1, stride=stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.equal_in_out:
            out = self.relu1(self.bn1(x))
            return x + self.conv2(self.relu2(self.bn2(self.conv1(out))))
        assert self.convShortcut is not None
        a = self.relu1(self.bn1(x))
        return self.convShortcut(a) + self.conv2(self.relu2(self.bn2(self.conv1(a))))

    def residual_parts(self) -> tuple[nn.Module, nn.Module, nn.Module, nn.Module]:
        """``(pre, body, shortcut, post)``: forward is ``post(body(h) + shortcut(h))``,
        ``h = pre(x)``; with a conv shortcut, bn1-relu1 is shared and sits in ``pre``."""
        tail = (self.conv1, self.bn2, self.relu2, self.conv2)
        if self.equal_in_out:
            return (
                nn.Identity(),
                nn.Sequential(self.bn1, self.relu1, *tail),
                nn.Identity(),
                nn.Identity(),
            )
        assert self.convShortcut is not None
        return (
            nn.Sequential(self.bn1, self.relu1),
            nn.Sequential(*tail),
            self.convShortcut,
            nn.Identity(),
        )


class _Group(nn.Module):
    """``n`` blocks under the key ``layer`` (TRADES' ``NetworkBlock``)."""

    def __init__(self, blocks: int, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        first = WideBasicBlock(cin, cout, stride)
        self.layer = nn.Sequential(
            first, *(WideBasicBlock(cout, cout, 1) for _ in range(blocks - 1))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


class WideResNet(nn.Module):
    """WRN-``depth``-``widen`` (``depth = 6n + 4``) for 3x32x32 inputs."""

    def __init__(self, depth: int = 34, widen: int = 10, num_classes: int = 10) -> None:
        super().__init__()
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f"a WideResNet has depth 6n + 4 (16, 28, 34, 40), got {depth}")
        if widen < 1:
            raise ValueError(f"widen factor must be >= 1, got {widen}")
        n = (depth - 4) // 6
        widths = (16, 16 * widen, 32 * widen, 64 * widen)
        self.conv1 = nn.Conv2d(3, widths[0], kernel_size=3, stride=1, padding=1, bias=False)
        self.block1 = _Group(n, widths[0], widths[1], 1)
        self.sub_block1 = _Group(n, widths[0], widths[1], 1)  # unused, as in TRADES
        self.block2 = _Group(n, widths[1], widths[2], 2)
        self.block3 = _Group(n, widths[2], widths[3], 2)
        self.bn1 = nn.BatchNorm2d(widths[3])
        self.relu = nn.ReLU()
        self.avgpool = nn.AvgPool2d(8)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(widths[3], num_classes)

    def forward_sequence(self) -> list[nn.Module]:
        """The modules whose composition is ``forward`` (``sub_block1`` is not one)."""
        return [
            self.conv1, self.block1, self.block2, self.block3,
            self.bn1, self.relu, self.avgpool, self.flatten, self.fc,
        ]  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        return self.fc(self.flatten(self.avgpool(self.relu(self.bn1(out)))))
