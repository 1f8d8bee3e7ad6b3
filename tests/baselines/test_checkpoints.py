"""Checkpoint formats: a random-weight model written in each format loads and predicts
what it predicted before; files in no format, or needing trust, get errors that say why
and name the config key."""

import warnings
from collections import OrderedDict

import pytest
import torch
from torch import nn

from baselines.architectures import build
from baselines.checkpoints import (
    CheckpointError,
    LoadRequest,
    format_names,
    load_checkpoint,
)
from tests.baselines.fake_data import randomize_batch_norm


class TinyNet(nn.Module):
    """A module class importable by the unpickler (for the pickled-module format)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).mean(dim=(2, 3)))


@pytest.fixture(scope="module")
def resnet20():
    torch.manual_seed(0)
    return randomize_batch_norm(build("cifar_resnet20"), seed=1)


def probe(shape=(3, 32, 32)) -> torch.Tensor:
    return torch.rand(5, *shape, generator=torch.Generator().manual_seed(7))


def same_predictions(a: nn.Module, b: nn.Module, shape=(3, 32, 32)) -> None:
    x = probe(shape)
    with torch.no_grad():
        torch.testing.assert_close(a.eval()(x), b.eval()(x), rtol=1e-5, atol=1e-5)


def cohen_dict(model: nn.Module, arch: str) -> dict:
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return {
        "epoch": 90,
        "arch": arch,
        "state_dict": model.state_dict(),
        "optimizer": opt.state_dict(),
    }


def write(tmp_path, fmt: str, model: nn.Module, name: str = "ckpt.pt"):
    path = tmp_path / name
    if fmt == "torchscript":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            torch.jit.save(torch.jit.trace(model, probe()), str(path))
    elif fmt == "cohen":
        torch.save(cohen_dict(model, "cifar_resnet20"), path)
    elif fmt == "cohen-legacy":  # the pre-1.6 serialization of 2019's checkpoints
        torch.save(cohen_dict(model, "cifar_resnet20"), path, _use_new_zipfile_serialization=False)
    elif fmt == "state_dict":
        torch.save(model.state_dict(), path)
    elif fmt == "pickle":
        torch.save(model, path)
    return path


@pytest.mark.parametrize("fmt", ["torchscript", "cohen", "cohen-legacy", "state_dict"])
@pytest.mark.parametrize("declared", [False, True], ids=["auto", "declared"])
def test_each_format_loads_and_predicts_the_same(tmp_path, resnet20, fmt, declared):
    path = write(tmp_path, fmt, resnet20)
    arch = "cifar_resnet20" if fmt == "state_dict" else None
    name = fmt.replace("-legacy", "") if declared else "auto"
    loaded = load_checkpoint(path, name, LoadRequest(arch=arch))
    same_predictions(resnet20, loaded)
    assert not loaded.training


def test_pickled_module_needs_trust_and_says_why(tmp_path):
    torch.manual_seed(0)
    model = TinyNet().eval()
    path = write(tmp_path, "pickle", model)
    for fmt in ("auto", "pickle"):
        with pytest.raises(CheckpointError) as err:
            load_checkpoint(path, fmt, LoadRequest(where="models[1]"))
        text = str(err.value)
        assert "models[1].trust_pickle = true" in text and "runs whatever code" in text
    loaded = load_checkpoint(path, "auto", LoadRequest(trust_pickle=True))
    same_predictions(model, loaded)


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html><html><body>404 Not Found</body></html>\n",
        b"weights\n",
        bytes(range(7, 207)),
    ],
    ids=["html-error-page", "text", "bytes"],
)
@pytest.mark.parametrize("fmt", ["auto", "state_dict", "pickle"])
def test_a_file_that_is_no_checkpoint_is_not_called_a_pickle(tmp_path, content, fmt):
    """torch reports "weights only load failed" for any bytes it cannot unpickle; a file
    that is neither a zip archive nor a pickle is not a checkpoint, and the error must not
    advise trusting it (reading it with trust_pickle fails anyway)."""
    path = tmp_path / "checkpoint.pth.tar"
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, fmt, LoadRequest(arch="mlp", where="models[0]"))
    text = str(err.value)
    assert "not a PyTorch checkpoint" in text and "trust_pickle" not in text


def test_resnet50_with_data_parallel_keys_loads(tmp_path):
    torch.manual_seed(0)
    model = randomize_batch_norm(build("resnet50"), seed=2)
    wrapped = nn.Sequential(model[0], nn.DataParallel(model[1]))  # as Cohen et al. saved it
    state = wrapped.state_dict()
    assert next(iter(state)).startswith("1.module.")
    path = tmp_path / "checkpoint.pth.tar"
    torch.save({"epoch": 90, "arch": "resnet50", "state_dict": state, "optimizer": {}}, path)
    loaded = load_checkpoint(path)
    same_predictions(model, loaded, shape=(3, 64, 64))


def test_state_dict_with_data_parallel_keys_loads(tmp_path, resnet20):
    state = OrderedDict(
        (k.replace("1.", "1.module.", 1), v) for k, v in resnet20.state_dict().items()
    )
    path = tmp_path / "sd.pt"
    torch.save(state, path)
    same_predictions(resnet20, load_checkpoint(path, "auto", LoadRequest(arch="cifar_resnet20")))


@pytest.mark.parametrize(
    "content",
    [b"not a checkpoint at all\n", "numpy", "dict-of-strings"],
    ids=["text", "npy", "dict"],
)
def test_a_file_in_no_format_gets_an_error_naming_the_formats_tried(tmp_path, content):
    path = tmp_path / "weird.bin"
    if content == "numpy":
        import numpy as np

        np.save(path, np.zeros(3))
        path = path.with_suffix(".bin.npy")
    elif content == "dict-of-strings":
        torch.save({"hello": "world"}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, "auto", LoadRequest(where="models[2]"))
    text = str(err.value)
    assert "models[2].checkpoint" in text and "none of the formats tried" in text
    for name in format_names()[1:]:
        assert name in text


def test_a_declared_format_that_does_not_fit_names_the_format_key(tmp_path, resnet20):
    path = write(tmp_path, "cohen", resnet20)
    with pytest.raises(CheckpointError, match="'models\\[0\\].format' is 'torchscript'"):
        load_checkpoint(path, "torchscript")
    with pytest.raises(CheckpointError, match="unknown format"):
        load_checkpoint(path, "onnx")


def test_architecture_disagreements_are_errors(tmp_path, resnet20):
    cohen = write(tmp_path, "cohen", resnet20)
    with pytest.raises(CheckpointError, match="'models\\[0\\].arch' is 'cifar_resnet110'"):
        load_checkpoint(cohen, "auto", LoadRequest(arch="cifar_resnet110"))
    bare = write(tmp_path, "state_dict", resnet20, "bare.pt")
    with pytest.raises(CheckpointError, match="'models\\[0\\].arch' is missing"):
        load_checkpoint(bare)
    with pytest.raises(CheckpointError, match="keys missing"):
        load_checkpoint(bare, "state_dict", LoadRequest(arch="cifar_resnet110"))
    with pytest.raises(FileNotFoundError, match="models\\[0\\].checkpoint"):
        load_checkpoint(tmp_path / "absent.pt")
