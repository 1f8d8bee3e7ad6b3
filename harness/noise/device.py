"""Devices as tensors report them, for keys and checks that compare devices."""

from __future__ import annotations

import torch


def concrete_device(device: torch.device | str) -> torch.device:
    """``device`` as a tensor on it reports its own: ``"cuda"`` is the current ``cuda:N``.

    ``torch.device("cuda") != torch.device("cuda:0")``, so a table or buffer kept under
    the first would not be found for a tensor on the second (and would be copied again,
    a host synchronization, inside a sampling loop)."""
    device = torch.device(device)
    if device.type == "cpu" or device.index is not None:
        return device
    return torch.empty(0, device=device).device
