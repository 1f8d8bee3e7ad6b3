"""TorchScript (``torch.jit.save``): the module and its code in one archive. No pickle of
arbitrary objects is read, so no trust flag is needed."""

from __future__ import annotations

import warnings

import torch
from torch import nn

from baselines.checkpoints.base import CheckpointFile, CheckpointFormat, LoadRequest, NotThisFormat
from baselines.checkpoints.registry import register_format


@register_format("torchscript")
class TorchScript(CheckpointFormat):
    order = 10
    summary = "a TorchScript module (torch.jit.save / torch.jit.script)"

    def read(self, file: CheckpointFile, request: LoadRequest) -> nn.Module:
        if not file.is_torchscript():
            raise NotThisFormat("it is not a TorchScript archive (no constants.pkl and code/)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return torch.jit.load(str(file.path), map_location="cpu").eval()
