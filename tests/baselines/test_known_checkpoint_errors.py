"""A known checkpoint that is missing, or is another network, says which file the release
holds and where the release is; a file of torch before 0.4.1 (no batch-norm counters)
loads as torch loads it."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from baselines.architectures import build
from baselines.checkpoints import CheckpointError, LoadRequest, load_checkpoint
from baselines.checkpoints.known import KNOWN_CHECKPOINTS
from baselines.datasets import Dataset
from baselines.models import ModelSpec, build_model

KNOWN = "cohen2019-cifar10-resnet110-noise0.25"


def cifar10() -> Dataset:
    return Dataset("cifar10", 10, (3, 32, 32), np.array([], dtype=np.int64), np.arange(4), None)


def known_spec(path) -> ModelSpec:
    k = KNOWN_CHECKPOINTS[KNOWN]
    return ModelSpec(checkpoint=str(path), known=KNOWN, arch=k.arch, format=k.format, sigma0=0.25)


def test_a_missing_known_checkpoint_names_its_release(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as err:
        build_model(known_spec("models/absent.pth.tar"), cifar10(), "models[0]")
    text = str(err.value)
    assert f"(looked at {os.path.join(tmp_path, 'models', 'absent.pth.tar')})" in text
    assert KNOWN_CHECKPOINTS[KNOWN].path in text and "github.com/locuslab/smoothing" in text
    for known in KNOWN_CHECKPOINTS.values():
        assert "https://github.com/" in known.source, known.name


def test_another_network_under_a_known_name_is_called_the_wrong_file(tmp_path):
    path = tmp_path / "r20.pth.tar"
    torch.save({"arch": "cifar_resnet20", "state_dict": build("cifar_resnet20").state_dict()}, path)
    with pytest.raises(
        CheckpointError, match=f"known = '{KNOWN}' is a cifar_resnet110 .*wrong file"
    ):
        build_model(known_spec(path), cifar10(), "models[0]")


def test_a_checkpoint_without_batch_norm_counters_loads(tmp_path):
    torch.manual_seed(0)
    model = build("cifar_resnet20").eval()
    state = {k: v for k, v in model.state_dict().items() if "num_batches_tracked" not in k}
    path = tmp_path / "old.pth.tar"
    torch.save({"arch": "cifar_resnet20", "state_dict": state}, path)
    loaded = load_checkpoint(path, "cohen", LoadRequest(arch="cifar_resnet20"))
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
    del state["1.conv1.weight"]
    torch.save({"arch": "cifar_resnet20", "state_dict": state}, path)
    with pytest.raises(CheckpointError, match="1 keys missing .*1.conv1.weight"):
        load_checkpoint(path, "cohen", LoadRequest(arch="cifar_resnet20"))
