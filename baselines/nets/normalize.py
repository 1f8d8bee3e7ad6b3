"""The per-channel normalization layer that models smoothed in pixel space put first.

Noise is added to images in [0, 1] (radii are measured there, as in Cohen et al. 2019),
so standardization cannot be part of the data pipeline: it is the network's first layer,
``(x - mean[c]) / std[c]``, an affine map per channel with weight ``1 / std[c]`` and bias
``-mean[c] / std[c]``. It holds no state in a checkpoint (Cohen et al.'s checkpoints have
no keys for it); mean and std are non-persistent buffers, so they follow ``.to(device)``.

Salman et al.'s first SmoothAdv release (2019) centres instead, ``x - mean[c]`` with no
division (their ``InputCenterLayer``): ``centering_layer`` gives it, as a
``NormalizeLayer`` with unit std (dividing by 1.0 is exact, so the two agree bit for bit).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

#: Cohen et al.'s CIFAR-10 channel statistics (their code's ``datasets.py``: these stds are
#: not the per-pixel stds of CIFAR-10's training set, 0.2470, 0.2435, 0.2616, and must not
#: be "corrected": the checkpoints were trained with these).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2023, 0.1994, 0.2010)
#: The ImageNet channel statistics of torchvision's models.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class NormalizeLayer(nn.Module):
    """``(x - mean[c]) / std[c]`` on a batch of shape (batch, C, H, W)."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        if len(mean) != len(std) or not len(mean):
            raise ValueError(f"mean and std need one entry per channel, got {mean} and {std}")
        if any(s <= 0 for s in std):
            raise ValueError(f"std must be positive, got {std}")
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_tracing() and (x.ndim != 4 or x.shape[1] != self.mean.shape[0]):
            raise ValueError(
                f"NormalizeLayer expects (batch, {self.mean.shape[0]}, H, W), got {tuple(x.shape)}"
            )
        return (x - self.mean.view(1, -1, 1, 1)) / self.std.view(1, -1, 1, 1)

    def channel_affine(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(weight, bias)``, each of shape (C,): forward is ``x * weight[c] + bias[c]``,
        computed in float64 (``1 / std`` rounded to float32 would differ from the layer by
        up to 6e-8 per pixel, which a logit summing thousands of pixels adds up to 1e-4)."""
        std = self.std.to(torch.float64)
        return 1.0 / std, -self.mean.to(torch.float64) / std

    def extra_repr(self) -> str:
        return f"mean={tuple(self.mean.tolist())}, std={tuple(self.std.tolist())}"


def centering_layer(mean: Sequence[float]) -> NormalizeLayer:
    """``x - mean[c]``: Salman et al.'s (2019) ``InputCenterLayer``, the first layer of the
    models of their first release (their ``architectures.py`` at commit 3911bd8)."""
    return NormalizeLayer(mean, [1.0] * len(mean))
