"""What the embedded recipes train on.

Cohen et al. (2019) train the base classifier on ``x + N(0, sigma^2 I)`` (the noise's
standard deviation is sigma), on the training split only; Gowal et al.'s interval-bound
training likewise sees only the training split. The network is replaced here by a
recorder of its inputs, so the batches can be checked directly.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch import nn

import baselines.ibp_training as ibp_training
import baselines.training as training
from baselines.datasets import load_digits


class _Recorder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 10)
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.detach().clone())
        return self.fc(x.flatten(1))


@pytest.fixture
def recorder(monkeypatch):
    rec = _Recorder()
    monkeypatch.setattr(training, "build", lambda arch: rec)
    monkeypatch.setattr(ibp_training, "build", lambda arch: rec)
    return rec


def _index_coded_digits():
    """Digits whose image ``i`` is the constant ``i``: a batch shows which images it holds."""
    data = load_digits()
    coded = (
        torch.arange(len(data.labels), dtype=torch.float32).view(-1, 1, 1, 1).expand(-1, 1, 8, 8)
    )
    return replace(data, images=coded.contiguous())


def test_gaussian_training_adds_noise_of_standard_deviation_sigma(recorder):
    data = load_digits()
    blank = replace(data, images=torch.zeros_like(data.images))
    training.train(training.Recipe("mlp", "digits", 0.5, epochs=1), blank)
    noise = torch.cat(recorder.seen)
    assert noise.shape[0] == len(data.train_indices)
    assert abs(noise.std().item() - 0.5) < 0.01 and abs(noise.mean().item()) < 0.01


def test_gaussian_training_sees_the_training_split_only(recorder):
    data = _index_coded_digits()
    training.train(training.Recipe("mlp", "digits", 0.0, epochs=1), data)
    seen = sorted(int(v) for v in torch.cat(recorder.seen)[:, 0, 0, 0])
    assert seen == sorted(int(i) for i in data.train_indices)


def test_ibp_training_sees_the_training_split_only(recorder):
    data = _index_coded_digits()
    recipe = ibp_training.IBPRecipe("mlp", "digits", epochs=1, warmup=1.0)  # eps stays 0
    ibp_training.train_ibp(recipe, data, verified_bounds=lambda *a: pytest.fail("eps > 0"))
    seen = sorted(int(v) for v in torch.cat(recorder.seen)[:, 0, 0, 0])
    assert seen == sorted(int(i) for i in data.train_indices)


@pytest.mark.parametrize("kappa_end", [0.0, 0.2, 0.5, 0.9])
def test_ibp_kappa_falls_from_one_to_kappa_end(kappa_end):
    """Gowal et al.: kappa goes linearly from 1 to kappa_end over the ramp, then holds."""
    recipe = ibp_training.IBPRecipe("mlp", "digits", eps=0.1, warmup=0.1, ramp=0.5,
                                    kappa_end=kappa_end)  # fmt: skip
    total = 1000
    assert recipe.schedule(0, total) == (0.0, 1.0)
    eps, kappa = recipe.schedule(350, total)  # half way through the ramp
    assert eps == pytest.approx(0.05) and kappa == pytest.approx(1 - (1 - kappa_end) / 2)
    assert recipe.schedule(900, total) == (pytest.approx(0.1), pytest.approx(kappa_end))


def test_recipes_of_two_sigmas_get_two_names():
    """A run with the MLP at two sigmas stores two models: their names must differ
    (``build_models`` refuses a repeated name)."""
    from baselines.models import ModelSpec, repeated_name

    specs = [ModelSpec(recipe="mlp", sigma0=s) for s in (0.12, 0.25)]
    assert repeated_name(specs, "digits") is None
    assert training.Recipe("mlp", "digits", 0.25).name != training.Recipe("mlp", "digits", 0.5).name
