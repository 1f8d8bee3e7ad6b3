"""``concrete_device``: ``"cuda"`` becomes the indexed device a tensor on it reports (so
buffers and tables kept under it are found for that tensor); the CPU and indexed devices
stay as given. The CUDA case runs here with torch's tensor factory stood in for."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from harness.noise import device as device_module
from harness.noise.device import concrete_device


def test_the_cpu_and_indexed_devices_are_kept():
    assert concrete_device("cpu") == torch.device("cpu")
    assert concrete_device(torch.device("cpu")) == torch.device("cpu")
    assert concrete_device("cuda:1") == torch.device("cuda", 1)  # no tensor is made


def test_an_unindexed_cuda_device_is_what_a_tensor_on_it_reports(monkeypatch):
    asked = []

    def empty(*size, device):
        asked.append(torch.device(device))
        return SimpleNamespace(device=torch.device("cuda", 3))  # the current device

    monkeypatch.setattr(device_module.torch, "empty", empty)
    assert concrete_device("cuda") == torch.device("cuda", 3)
    assert asked == [torch.device("cuda")]
