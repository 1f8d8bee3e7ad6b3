"""Cohen et al.'s (2019) checkpoints, also used by Salman et al. (2019):
``torch.save({'epoch', 'arch', 'state_dict', 'optimizer'})``, where ``arch`` is one of
``cifar_resnet20``, ``cifar_resnet110``, ``resnet50`` and ``state_dict`` is that of
``Sequential(NormalizeLayer, network)`` (keys ``1.``; ImageNet models were wrapped in
``DataParallel``, keys ``1.module.``). Only tensors, dicts and numbers are inside, so the
file is read with ``weights_only=True``. Salman et al.'s first-release files store
``cifar_resnet110`` or ``resnet50`` for networks that centre their input instead of
normalizing it: ``arch = "cifar_resnet110_centered"`` (``resnet50_centered``) loads them
so; nothing in the file says which."""

from __future__ import annotations

from collections.abc import Mapping

from torch import nn

from baselines.architectures import ARCHITECTURES, build
from baselines.checkpoints.base import (
    CheckpointError,
    CheckpointFile,
    CheckpointFormat,
    LoadRequest,
    NotThisFormat,
    is_state_dict,
    load_weights,
)
from baselines.checkpoints.registry import register_format


@register_format("cohen")
class CohenCheckpoint(CheckpointFormat):
    order = 20
    summary = "Cohen et al.'s / Salman et al.'s dict with 'arch' and 'state_dict'"

    def read(self, file: CheckpointFile, request: LoadRequest) -> nn.Module:
        payload = file.payload(request)
        if not (isinstance(payload, Mapping) and "state_dict" in payload and "arch" in payload):
            raise NotThisFormat("it is not a dict with 'arch' and 'state_dict'")
        arch = payload["arch"]
        if arch not in ARCHITECTURES:
            raise CheckpointError(
                f"config key '{request.where}.checkpoint': {file.path} names architecture "
                f"{arch!r}, which is not one of {sorted(ARCHITECTURES)}"
            )
        if request.arch is not None:
            if request.arch not in ARCHITECTURES or (
                ARCHITECTURES[request.arch].stored_as(request.arch) != arch
            ):
                raise CheckpointError(
                    f"config key '{request.where}.arch' is {request.arch!r}, but {file.path} "
                    f"holds a {arch!r}"
                )
            arch = request.arch  # its variant: Salman et al.'s centred first layer
        if not is_state_dict(payload["state_dict"]):
            raise CheckpointError(
                f"config key '{request.where}.checkpoint': the 'state_dict' of {file.path} "
                "is not a mapping from names to tensors"
            )
        return load_weights(build(arch), payload["state_dict"], arch, request)
