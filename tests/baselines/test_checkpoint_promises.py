"""What ``load_checkpoint`` promises beyond "the weights are the file's".

* The model comes back in eval mode, in every format (``load_checkpoint``'s docstring):
  a batch-norm network left in train mode normalizes each noisy batch by its own
  statistics, so every sampled prediction, and so every certificate, is wrong. The
  project's own prediction check calls ``.eval()`` itself and cannot see this.
* A state_dict with every key of the architecture and one more is refused with a
  ``CheckpointError`` that counts the unexpected key (``load_weights``' docstring).
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from baselines.architectures import build
from baselines.checkpoints import CheckpointError, LoadRequest, load_checkpoint
from tests.baselines.fake_data import randomize_batch_norm


def _tiny_bn() -> nn.Module:
    """A batch-norm network of torch's own modules (importable by the unpickler)."""
    return nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.BatchNorm2d(4),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 10),
    )


@pytest.fixture(scope="module")
def resnet20():
    torch.manual_seed(0)
    return randomize_batch_norm(build("cifar_resnet20"), seed=1)


def _write(path, fmt: str, model: nn.Module):
    model.train()  # saved the way a training script saves it: in train mode
    if fmt == "torchscript":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            torch.jit.save(torch.jit.script(model), str(path))
    elif fmt == "cohen":
        torch.save({"epoch": 1, "arch": "cifar_resnet20", "state_dict": model.state_dict()}, path)
    elif fmt == "state_dict":
        torch.save(model.state_dict(), path)
    elif fmt == "pickle":
        torch.save(model, path)
    model.eval()
    return path


@pytest.mark.parametrize("fmt", ["torchscript", "cohen", "state_dict", "pickle"])
def test_every_format_returns_the_model_in_eval_mode(tmp_path, resnet20, fmt):
    model = _tiny_bn() if fmt in ("pickle", "torchscript") else resnet20
    path = _write(tmp_path / "ckpt.pt", fmt, model)
    arch = "cifar_resnet20" if fmt == "state_dict" else None
    loaded = load_checkpoint(path, fmt, LoadRequest(arch=arch, trust_pickle=fmt == "pickle"))
    assert not loaded.training
    assert not any(m.training for m in loaded.modules())
    # and so a batch of one image and the same image in a batch of five agree
    x = torch.rand(5, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(loaded(x[:1]), loaded(x)[:1], rtol=1e-5, atol=1e-5)


def test_one_key_too_many_is_a_checkpoint_error_that_counts_it(tmp_path, resnet20):
    state = dict(resnet20.state_dict())
    state["1.extra.weight"] = torch.zeros(3)
    path = tmp_path / "extra.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"0 keys missing .* 1 unexpected .*1\.extra\.weight"):
        load_checkpoint(path, "state_dict", LoadRequest(arch="cifar_resnet20"))


def test_a_tensor_of_another_shape_is_a_checkpoint_error_naming_it(tmp_path):
    """The same keys, a 100-class head (a CIFAR-100 ResNet-20): ``load_weights`` names the
    first tensor whose shape differs and both shapes, as a ``CheckpointError``."""
    from baselines.nets import CifarResNet, NormalizeLayer

    other = nn.Sequential(NormalizeLayer([0.5] * 3, [0.25] * 3), CifarResNet(20, num_classes=100))
    path = tmp_path / "cifar100.pt"
    torch.save(other.state_dict(), path)
    with pytest.raises(
        CheckpointError, match=r"1\.fc\.weight: \(100, 64\) in the file, \(10, 64\)"
    ):
        load_checkpoint(path, "state_dict", LoadRequest(arch="cifar_resnet20"))


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("fmt", ["auto", "cohen"])
def test_a_cohen_dict_holding_python_objects_needs_trust(tmp_path, resnet20, fmt, legacy):
    """Cohen et al.'s training scripts could store more than tensors (an argparse
    ``Namespace`` of the arguments, say): ``weights_only`` refuses it, and the file must
    then not be unpickled unless the config sets ``trust_pickle``."""
    import argparse

    payload = {
        "epoch": 1,
        "arch": "cifar_resnet20",
        "state_dict": resnet20.state_dict(),
        "args": argparse.Namespace(lr=0.1),
    }
    path = tmp_path / "checkpoint.pth.tar"
    # 2019's files are torch's legacy (pre-1.6) pickle, not a zip archive
    torch.save(payload, path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(CheckpointError, match="trust_pickle = true"):
        load_checkpoint(path, fmt, LoadRequest())
    loaded = load_checkpoint(path, fmt, LoadRequest(trust_pickle=True))
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), resnet20(x), rtol=1e-5, atol=1e-5)


def test_a_zip_with_code_but_no_torchscript_constants_is_no_checkpoint(tmp_path):
    """TorchScript archives hold both ``constants.pkl`` and ``code/``; a zip with only a
    ``code/`` folder is in no format, a ``CheckpointError``, not torch.jit's own error."""
    import zipfile

    path = tmp_path / "notes.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes/code/readme.py", "print('hi')\n")
    with pytest.raises(CheckpointError, match="none of the formats tried"):
        load_checkpoint(path, "auto", LoadRequest())


def test_an_empty_dict_is_in_no_format(tmp_path):
    """``is_state_dict``: a *non-empty* mapping of names to tensors. An empty dict (a
    failed save) is in none of the formats, not a state_dict that lacks an ``arch``."""
    path = tmp_path / "empty.pt"
    torch.save({}, path)
    with pytest.raises(CheckpointError, match="none of the formats tried"):
        load_checkpoint(path, "auto", LoadRequest())


def test_an_arch_beside_a_pickled_module_is_an_error(tmp_path):
    """A pickled module carries its own architecture: an ``arch`` in the config beside it
    is refused (``PickledModule.read``), not silently ignored."""
    path = tmp_path / "model.pt"
    torch.save(_tiny_bn(), path)
    for fmt in ("auto", "pickle"):
        with pytest.raises(CheckpointError, match="carries its own architecture; remove 'arch'"):
            load_checkpoint(path, fmt, LoadRequest(arch="cifar_resnet20", trust_pickle=True))


def test_auto_tries_the_formats_in_the_documented_order():
    """``baselines.checkpoints``' docstring: torchscript, cohen, state_dict, pickle (the
    one that needs trust last)."""
    from baselines.checkpoints import format_names

    assert format_names()[:5] == ["auto", "torchscript", "cohen", "state_dict", "pickle"]
