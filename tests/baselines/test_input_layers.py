"""The first layer of each published model, which nothing in a checkpoint records.

Cohen et al.'s models normalize, ``(x - mean) / std``; Salman et al.'s first-release
SmoothAdv models centre, ``x - mean`` (their ``InputCenterLayer``). The constants are
written out here from the authors' code (Cohen et al.'s ``datasets.py``), and the
reference forward passes are written with plain tensor arithmetic on the loaded network
body, not with the project's layer."""

from __future__ import annotations

import pytest
import torch

from baselines.architectures import ARCHITECTURES, build
from baselines.checkpoints import CheckpointError, LoadRequest, load_checkpoint
from baselines.checkpoints.known import KNOWN_CHECKPOINTS
from baselines.nets import CIFAR10_MEAN, CIFAR10_STD, IMAGENET_MEAN, IMAGENET_STD
from tests.baselines.fake_data import randomize_batch_norm

COHEN_CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
COHEN_CIFAR10_STD = (0.2023, 0.1994, 0.2010)  # Cohen et al.'s, not CIFAR-10's 0.2470, ...
IMAGENET_MEAN_LITERAL = (0.485, 0.456, 0.406)
IMAGENET_STD_LITERAL = (0.229, 0.224, 0.225)


def channels(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32).view(1, -1, 1, 1)


def test_the_normalization_constants_are_the_authors():
    assert CIFAR10_MEAN == COHEN_CIFAR10_MEAN and CIFAR10_STD == COHEN_CIFAR10_STD
    assert IMAGENET_MEAN == IMAGENET_MEAN_LITERAL and IMAGENET_STD == IMAGENET_STD_LITERAL


@pytest.fixture(scope="module")
def salman_file(tmp_path_factory):
    """A first-release SmoothAdv checkpoint: Cohen et al.'s dict, ``arch`` = the plain
    name, weights of ``Sequential(centring layer, ResNet-110)`` (keys ``1.``)."""
    torch.manual_seed(3)
    model = randomize_batch_norm(build("cifar_resnet110"), seed=4)
    path = tmp_path_factory.mktemp("salman") / "checkpoint.pth.tar"
    payload = {"epoch": 150, "arch": "cifar_resnet110", "state_dict": model.state_dict()}
    torch.save(payload, path, _use_new_zipfile_serialization=False)
    return path, model[1]


def test_salmans_first_release_loads_with_its_centring_layer(salman_file):
    path, body = salman_file
    x = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    for name in (
        "salman2019-cifar10-pgd4steps-eps64-noise0.12",
        "salman2019-cifar10-pgd10steps-multinoise2-eps64-noise0.12",
    ):
        known = KNOWN_CHECKPOINTS[name]
        model = load_checkpoint(path, known.format, LoadRequest(arch=known.arch))
        with torch.no_grad():
            torch.testing.assert_close(
                model(x), body(x - channels(COHEN_CIFAR10_MEAN)), rtol=0, atol=0
            )
    cohen = load_checkpoint(path, "cohen", LoadRequest(arch="cifar_resnet110"))
    with torch.no_grad():
        normalized = body((x - channels(COHEN_CIFAR10_MEAN)) / channels(COHEN_CIFAR10_STD))
        torch.testing.assert_close(cohen(x), normalized, rtol=1e-6, atol=1e-5)
        assert (cohen(x) - model(x)).abs().max() > 1e-2  # the two layers are not alike


def test_a_centred_architecture_takes_only_files_of_its_network(salman_file):
    path, _ = salman_file
    with pytest.raises(CheckpointError, match="is 'resnet50_centered', but .* holds a"):
        load_checkpoint(path, "cohen", LoadRequest(arch="resnet50_centered"))
    for name, arch in ARCHITECTURES.items():
        if arch.checkpoint_arch is not None:
            assert arch.checkpoint_arch in ARCHITECTURES and arch.dataset == (
                ARCHITECTURES[arch.checkpoint_arch].dataset
            ), name


def test_the_imagenet_centred_resnet50_subtracts_the_imagenet_mean():
    torch.manual_seed(0)
    model = build("resnet50_centered").eval()
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(model(x), model[1](x - channels(IMAGENET_MEAN_LITERAL)))
