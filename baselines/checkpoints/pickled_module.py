"""A whole module pickled with ``torch.save(model)``. Reading it unpickles the module's
class, which runs code from the file and needs that class importable: the config must say
``trust_pickle = true``."""

from __future__ import annotations

from torch import nn

from baselines.checkpoints.base import (
    CheckpointError,
    CheckpointFile,
    CheckpointFormat,
    LoadRequest,
    NeedsTrust,
    NotThisFormat,
)
from baselines.checkpoints.registry import register_format


@register_format("pickle")
class PickledModule(CheckpointFormat):
    order = 40
    summary = "a whole nn.Module saved with torch.save(model) (needs trust_pickle = true)"

    def read(self, file: CheckpointFile, request: LoadRequest) -> nn.Module:
        try:
            payload = file.weights_only()
        except NeedsTrust:
            if not request.trust_pickle:
                raise
            payload = file.trusted()
        if not isinstance(payload, nn.Module):
            raise NotThisFormat(f"it holds a {type(payload).__name__}, not an nn.Module")
        if request.arch is not None:
            raise CheckpointError(
                f"config key '{request.where}.arch': a pickled module carries its own "
                "architecture; remove 'arch'"
            )
        return payload.eval()
