"""Small networks of every layer type the deterministic certifiers read, built at random
from a seed, and modules of our own implementing the two reading protocols."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import strategies as st
from torch import nn


class ChannelAffine(nn.Module):
    """The per-channel normalization protocol: ``x * weight[c] + bias[c]``."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.register_buffer("bias", bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (-1,) + (1,) * (x.ndim - 2)
        return x * self.weight.reshape(shape) + self.bias.reshape(shape)

    def channel_affine(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.weight, self.bias


class Block(nn.Module):
    """The residual protocol: ``post(body(h) + shortcut(h))`` with ``h = pre(x)``."""

    def __init__(self, pre: nn.Module, body: nn.Module, shortcut: nn.Module, post: nn.Module):
        super().__init__()
        self.pre, self.body, self.shortcut, self.post = pre, body, shortcut, post

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pre(x)
        return self.post(self.body(h) + self.shortcut(h))

    def residual_parts(self):
        return self.pre, self.body, self.shortcut, self.post


class Shifted(nn.Module):
    """A forward with arithmetic (read by tracing): ``net(2 x - 1)``."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2.0 - 1.0)


def randomize_batch_norm(bn: nn.Module, gen: torch.Generator) -> None:
    """Running statistics and an affine part (weights of either sign), eval mode."""
    c = bn.num_features
    with torch.no_grad():
        bn.running_mean.copy_(0.3 * torch.randn(c, generator=gen))
        bn.running_var.copy_(0.5 + 1.5 * torch.rand(c, generator=gen))
        bn.weight.copy_(torch.randn(c, generator=gen))
        bn.bias.copy_(0.2 * torch.randn(c, generator=gen))


@dataclass(frozen=True)
class NetSpec:
    """What a random network holds."""

    seed: int
    conv: bool
    channels_in: int
    size: int
    normalize: bool
    batch_norm: bool
    pool: str | None
    residual: str | None
    dropout: bool
    shifted: bool
    classes: int

    @property
    def has_max_pool(self) -> bool:
        return self.pool == "max"


@st.composite
def net_specs(draw, max_pool: bool = True) -> NetSpec:
    conv = draw(st.booleans())
    pools = [None, "avg", "adaptive"] + (["max"] if max_pool else [])
    return NetSpec(
        seed=draw(st.integers(0, 2**31 - 1)),
        conv=conv,
        channels_in=draw(st.integers(1, 2)),
        size=draw(st.sampled_from([4, 6])),
        normalize=draw(st.booleans()),
        batch_norm=draw(st.booleans()),
        pool=draw(st.sampled_from(pools)) if conv else None,
        residual=draw(st.sampled_from([None, "identity", "projection"])) if conv else None,
        dropout=draw(st.booleans()),
        shifted=draw(st.booleans()),
        classes=draw(st.integers(2, 5)),
    )


def build(spec: NetSpec) -> nn.Module:
    """The network of ``spec``, float64, eval mode, weights drawn from ``spec.seed``."""
    gen = torch.Generator().manual_seed(spec.seed)
    torch.manual_seed(spec.seed)
    layers: list[nn.Module] = []
    c = spec.channels_in
    if spec.normalize:
        weight = torch.randn(c, generator=gen).sign() * (1 + torch.rand(c, generator=gen))
        layers.append(ChannelAffine(weight, 0.5 * torch.randn(c, generator=gen)))
    if spec.conv:
        width = 3
        layers.append(nn.Conv2d(c, width, 3, stride=1, padding=1))
        if spec.batch_norm:
            layers.append(nn.BatchNorm2d(width))
        layers.append(nn.ReLU())
        if spec.residual is not None:
            body = nn.Sequential(
                nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
                nn.Conv2d(width, width, 3, padding=1),
            )  # fmt: skip
            if spec.residual == "identity":
                shortcut: nn.Module = nn.Identity()
            else:
                shortcut = nn.Sequential(nn.Conv2d(width, width, 1), nn.BatchNorm2d(width))
            pre = nn.BatchNorm2d(width) if spec.batch_norm else nn.Identity()
            layers.append(Block(pre, body, shortcut, nn.ReLU()))
        if spec.pool == "avg":
            layers.append(nn.AvgPool2d(2))
        elif spec.pool == "max":
            layers.append(nn.MaxPool2d(2))
        elif spec.pool == "adaptive":
            layers.append(nn.AdaptiveAvgPool2d(2))
    layers.append(nn.Flatten())
    trunk = nn.Sequential(*layers)
    with torch.no_grad():
        features = trunk(torch.zeros(1, spec.channels_in, spec.size, spec.size)).shape[1]
    hidden = 8
    head: list[nn.Module] = [nn.Linear(features, hidden)]
    if spec.batch_norm:
        head.append(nn.BatchNorm1d(hidden))
    head.append(nn.ReLU())
    if spec.dropout:
        head.append(nn.Dropout(0.5))
    head += [nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, spec.classes)]
    net: nn.Module = nn.Sequential(trunk, *head)
    if spec.shifted:
        net = Shifted(net)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
            randomize_batch_norm(m, gen)
    return net.double().eval()


def inputs(spec: NetSpec, batch: int = 6, seed: int = 0) -> torch.Tensor:
    """Pixels in [0, 1], some exactly 0 or 1 (so that clipping matters)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, spec.channels_in, spec.size, spec.size, generator=gen)
    edge = torch.rand(x.shape, generator=gen)
    x = torch.where(edge < 0.15, 0.0, torch.where(edge > 0.85, 1.0, x))
    return x.double()


def mixed_labels(model: nn.Module, x: torch.Tensor, classes: int, seed: int = 0):
    """The model's predictions on half the inputs, other classes on the rest."""
    with torch.no_grad():
        pred = model(x).argmax(1)
    other = (pred + 1 + torch.arange(len(x)) % (classes - 1)) % classes
    return torch.where(torch.arange(len(x)) % 2 == 0, pred, other)
