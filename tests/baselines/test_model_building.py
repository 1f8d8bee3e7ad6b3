"""``build_model`` for a checkpoint spec.

The entry carries the spec's training sigma (to which the run's noises are matched), the
sha256 of the file (``hashlib`` over its bytes), and the display name the docstring of
``ModelSpec.display_name`` gives: a generic file name (``checkpoint.pth.tar``) prefixed
by up to three parent folders. An architecture of another dataset, or a model with
another number of classes, is refused before any sampling.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pytest
import torch

from baselines.architectures import build
from baselines.checkpoints import CheckpointError
from baselines.checkpoints.known import KNOWN_CHECKPOINTS
from baselines.datasets import Dataset
from baselines.models import ModelSpec, build_model


def _cifar(num_classes: int = 10) -> Dataset:
    return Dataset("cifar10", num_classes, (3, 32, 32), np.array([], dtype=np.int64),
                   np.arange(4), lambda i: (torch.zeros(3, 32, 32), 0))  # fmt: skip


@pytest.fixture
def cohen_file(tmp_path):
    torch.manual_seed(0)
    model = build("cifar_resnet20")
    path = tmp_path / "models" / "cifar10" / "resnet20" / "noise_0.25" / "checkpoint.pth.tar"
    path.parent.mkdir(parents=True)
    torch.save({"epoch": 1, "arch": "cifar_resnet20", "state_dict": model.state_dict()}, path)
    return path


def test_a_checkpoint_entry_has_its_sigma_digest_and_folder_name(cohen_file):
    entry = build_model(ModelSpec(checkpoint=str(cohen_file), sigma0=0.25), _cifar())
    assert entry.sigma0 == 0.25
    assert entry.sha256 == hashlib.sha256(cohen_file.read_bytes()).hexdigest()
    assert entry.name == "cifar10-resnet20-noise_0.25"
    assert not entry.model.training


def test_another_datasets_arch_or_class_count_is_refused(cohen_file):
    with pytest.raises(ValueError, match="takes imagenet inputs, but the run's dataset is cifar10"):
        build_model(ModelSpec(checkpoint=str(cohen_file), arch="resnet50"), _cifar())
    with pytest.raises(ValueError, match=r"needs logits of shape \(batch, 100\)"):
        build_model(ModelSpec(checkpoint=str(cohen_file)), _cifar(num_classes=100))


def test_a_known_checkpoint_with_another_digest_than_the_published_is_refused(
    cohen_file, monkeypatch
):
    name = "cohen2019-cifar10-resnet110-noise0.25"
    monkeypatch.setitem(KNOWN_CHECKPOINTS, name, replace(KNOWN_CHECKPOINTS[name], sha256="0" * 64))
    spec = ModelSpec(checkpoint=str(cohen_file), known=name)
    with pytest.raises(CheckpointError, match="but the published .* has 0000"):
        build_model(spec, _cifar())


def test_a_gaussian_recipe_trains_at_the_specs_sigma0():
    """``trained_recipe``: Gaussian augmentation at ``sigma0`` (0 only without one)."""
    assert ModelSpec(recipe="mlp", sigma0=0.25).trained_recipe("digits").sigma == 0.25
    assert ModelSpec(recipe="mlp", smoothing=False).trained_recipe("digits").sigma == 0.0
