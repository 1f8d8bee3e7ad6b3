"""A CIFAR-10 download that fails (no network) says so, and how to do without it, rather
than a bare network error blamed on the store, which does not exist yet."""

from __future__ import annotations

from urllib.error import URLError

import pytest
import torchvision

from baselines.datasets import DownloadError, load_cifar10
from harness.cli import main

CONFIG = """
[run]
dataset = "cifar10"
data_root = "{root}"
download = true
n_test = 5

[[models]]
known = "cohen2019-cifar10-resnet110-noise0.25"
checkpoint = "{root}/checkpoint.pth.tar"  # read after the data, so never here
"""


def _offline(*args, **kwargs):
    raise URLError("[Errno -2] Name or service not known")


def test_a_failed_download_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", _offline)
    with pytest.raises(DownloadError) as err:
        load_cifar10(str(tmp_path), download=True)
    message = str(err.value)
    assert message.startswith(f"downloading CIFAR-10 into {tmp_path} failed (URLError")
    assert "cifar-10-python.tar.gz" in message and "'run.download = false'" in message
    assert isinstance(err.value.__cause__, URLError)


def test_the_command_line_names_the_download_not_the_store(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", _offline)
    config = tmp_path / "c.toml"
    config.write_text(CONFIG.format(root=(tmp_path / "data").as_posix()))
    store = tmp_path / "x.sqlite"
    assert main(["run", str(config), "--store", str(store), "--quiet"]) == 1  # environment
    said = capsys.readouterr().err
    assert "error (DownloadError): downloading CIFAR-10" in said, said
    assert "(store " not in said and not store.exists()
