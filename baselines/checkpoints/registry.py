"""The checkpoint formats, one registry (``smoothbench.registry.Registry``); third-party
formats register through the entry-point group ``smoothbench.checkpoint_formats``."""

from __future__ import annotations

from baselines.checkpoints.base import CheckpointFormat
from smoothbench.registry import Registry

CHECKPOINT_FORMATS: Registry[CheckpointFormat] = Registry(
    "checkpoint format", CheckpointFormat, "smoothbench.checkpoint_formats", "name"
)


def register_format(name: str):
    """Class decorator registering a ``CheckpointFormat`` under ``name``."""
    return CHECKPOINT_FORMATS.register(name)


def formats_in_order() -> list[type[CheckpointFormat]]:
    """Every format, in the order ``format = "auto"`` tries them."""
    return sorted((cls for _, cls in CHECKPOINT_FORMATS.items()), key=lambda c: (c.order, c.name))
