"""A plain state_dict (``torch.save(model.state_dict())``) of a named architecture
(``models[i].arch``), e.g. TRADES' WideResNet-34-10. Keys wrapped by ``DataParallel``
(``module.``) load too. Read with ``weights_only=True``."""

from __future__ import annotations

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


@register_format("state_dict")
class StateDict(CheckpointFormat):
    order = 30
    summary = "a plain state_dict of the architecture named by 'arch'"

    def read(self, file: CheckpointFile, request: LoadRequest) -> nn.Module:
        payload = file.payload(request)
        if not is_state_dict(payload):
            raise NotThisFormat("it is not a mapping from parameter names to tensors")
        if request.arch is None:
            raise CheckpointError(
                f"config key '{request.where}.arch' is missing: {file.path} is a bare "
                f"state_dict, which does not say its architecture; known: {sorted(ARCHITECTURES)}"
            )
        return load_weights(build(request.arch), payload, request.arch, request)
