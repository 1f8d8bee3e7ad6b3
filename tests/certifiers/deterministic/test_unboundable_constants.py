"""A forward constant that changes the shape (broadcasting up) and a channel_affine() of
the wrong shape cannot be bounded: the error must be an UnsupportedError, which the
harness turns into a skip of that model (deterministic_skipped), not a failed run."""

import pytest
import torch
from torch import nn

import certifiers
from certifiers.base import UnsupportedError


class BroadcastUp(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("c", torch.zeros(3, 4, 4, dtype=torch.float64))
        self.fc = nn.Linear(48, 2)

    def forward(self, x):
        return self.fc((x + self.c).flatten(1))


class ScalarAffine(nn.Module):
    def channel_affine(self):
        return 2.0, 0.0

    def forward(self, x):
        return x * 2.0


def models():
    return {
        "broadcast": BroadcastUp().double(),
        "scalar-channel-affine": nn.Sequential(
            ScalarAffine(), nn.Flatten(), nn.Linear(16, 2)
        ).double(),
    }


@pytest.mark.parametrize("name", ["ibp", "crown"])
@pytest.mark.parametrize("model", ["broadcast", "scalar-channel-affine"])
def test_an_unboundable_constant_is_unsupported(name, model):
    x = torch.rand(2, 1, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with pytest.raises(UnsupportedError):
        certifiers.get(name).certify(models()[model], x, [0, 0], 0.0)
