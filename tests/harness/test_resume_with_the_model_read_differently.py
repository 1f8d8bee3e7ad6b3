"""A run's identity knew a model by its name, its file's sha256, sigma0 and whether it is
smoothed. One checkpoint read as Cohen et al.'s ``cifar_resnet110`` (a normalizing first
layer) and as Salman et al.'s ``cifar_resnet110_centered`` (a centring one) is two
classifiers with one file: a run begun with one reading resumed with the other, silently,
and the store held counts of two models under one name. The identity now holds each
model's ``module_fingerprint`` (its modules, parameters and buffers as read).

Properties: a resume with the model read differently is refused and adds nothing; the
fingerprint tells the two readings apart and not a model from its saved-and-loaded copy;
a store written before fingerprints resumes as before."""

from __future__ import annotations

import copy
import io
import pickle
import warnings

import numpy as np
import pytest
import torch

from baselines.architectures import DigitsMLP, build
from harness import config as C
from harness.identity import module_fingerprint
from harness.runner import run
from harness.store import Store

CFG = """
[run]
name = "arch"
dataset = "cifar10"
data_root = "{root}"
seed = 0
n_test = 4
n0 = 2
n = 6
batch_size = 8
device = "cpu"

[[models]]
checkpoint = "{ckpt}"
sigma0 = 0.25
{arch}

[[noises]]
family = "gaussian"

[certify]
certifiers = ["cohen"]  # no deterministic certifier: CROWN on a ResNet-110 takes a minute
"""


@pytest.fixture
def configs(tmp_path):
    """A fake CIFAR-10 test batch, one Cohen-format checkpoint, and a config reading it
    as each architecture."""
    folder = tmp_path / "data" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({"data": rng.integers(0, 256, (8, 3072), dtype=np.uint8),
                     "labels": [int(v) for v in rng.integers(0, 10, 8)]}, fh)  # fmt: skip
    torch.manual_seed(0)
    ckpt = tmp_path / "model.pth.tar"
    torch.save(
        {"arch": "cifar_resnet110", "state_dict": build("cifar_resnet110").state_dict()}, ckpt
    )
    paths = {}
    for label, arch in (("plain", ""), ("centered", 'arch = "cifar_resnet110_centered"')):
        paths[label] = tmp_path / f"{label}.toml"
        paths[label].write_text(CFG.format(root=tmp_path / "data", ckpt=ckpt, arch=arch))
    return tmp_path, paths


def _run(path, store, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(C.load(path), store, progress=False, certify=False, **kw)


def _count_rows(store):
    with Store(store, readonly=True) as s:
        return [(r.image, r.estimation.tolist()) for r in s.count_rows()]


def test_a_resume_with_the_file_read_as_another_architecture_is_refused(configs):
    tmp_path, paths = configs
    store = tmp_path / "s.sqlite"
    _run(paths["plain"], store, stop_after=2)
    before = _count_rows(store)
    with pytest.raises(ValueError, match="read differently now"):
        _run(paths["centered"], store)
    assert _count_rows(store) == before
    _run(paths["plain"], store)  # read as the run began: it resumes
    assert len(_count_rows(store)) == 4


def test_the_fingerprint_tells_the_two_readings_apart():
    torch.manual_seed(0)
    plain = build("cifar_resnet110")
    centered = build("cifar_resnet110_centered")
    centered.load_state_dict(plain.state_dict())  # the same file's weights
    assert module_fingerprint(plain) != module_fingerprint(centered)


def test_the_fingerprint_of_a_saved_and_loaded_copy_is_the_models():
    torch.manual_seed(0)
    model = DigitsMLP()
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    loaded = DigitsMLP()
    loaded.load_state_dict(torch.load(buffer))
    assert module_fingerprint(loaded) == module_fingerprint(model)
    assert module_fingerprint(copy.deepcopy(model)) == module_fingerprint(model)
    with torch.no_grad():
        loaded.net[1].weight[0, 0] += 1e-6  # one weight moved: another model
    assert module_fingerprint(loaded) != module_fingerprint(model)


def test_a_store_written_before_fingerprints_resumes(configs):
    tmp_path, paths = configs
    store = tmp_path / "s.sqlite"
    _run(paths["plain"], store, stop_after=2)
    with Store(store) as s:  # as a store of an earlier version holds it
        models = s.get_manifest("models")
        for entry in models.values():
            del entry["module"]
        s.put_manifest({"models": models})
    _run(paths["plain"], store)
    assert len(_count_rows(store)) == 4


def test_a_replaced_checkpoint_is_named_by_its_file_not_as_another_reading(configs):
    tmp_path, paths = configs
    store = tmp_path / "s.sqlite"
    _run(paths["plain"], store, stop_after=2)
    torch.manual_seed(1)  # other weights in the same file
    other = {"arch": "cifar_resnet110", "state_dict": build("cifar_resnet110").state_dict()}
    torch.save(other, tmp_path / "model.pth.tar")
    with pytest.raises(ValueError, match=r"differs in 'models'.*\.sha256'") as refused:
        _run(paths["plain"], store)
    assert "read differently" not in str(refused.value)


def test_a_plugin_files_class_is_the_same_wherever_the_file_lies():
    """A plugin file's module is named with a digest of its path: the same file in
    another folder (a moved project) holds the same model."""

    def model_from(module_name):
        kind = type("Scaled", (torch.nn.Module,), {"forward": lambda self, x: 2 * x})
        kind.__module__ = module_name
        torch.manual_seed(0)
        return torch.nn.Sequential(kind(), torch.nn.Linear(3, 2))

    here = model_from("smoothbench_plugin_mine_0123456789")
    moved = model_from("smoothbench_plugin_mine_abcdef0123")
    other = model_from("smoothbench_plugin_theirs_0123456789")
    assert module_fingerprint(here) == module_fingerprint(moved)
    assert module_fingerprint(here) != module_fingerprint(other)


def test_sparse_and_quantized_buffers_are_fingerprinted_by_their_values():
    """A buffer that is no plain tensor (sparse, quantized) is read by its values: no
    crash, and another scale is another model."""

    class Holding(torch.nn.Module):
        def __init__(self, buffer):
            super().__init__()
            self.register_buffer("held", buffer)

    torch.manual_seed(0)
    x = torch.randn(3, 3)
    sparse = module_fingerprint(Holding(x.to_sparse()))
    assert sparse == module_fingerprint(Holding(x.clone().to_sparse()))
    assert sparse != module_fingerprint(Holding((2 * x).to_sparse()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates quantized tensors
        fine = torch.quantize_per_tensor(x, 0.1, 0, torch.qint8)
        coarse = torch.quantize_per_tensor(x, 0.2, 0, torch.qint8)
    assert module_fingerprint(Holding(fine)) != module_fingerprint(Holding(coarse))
