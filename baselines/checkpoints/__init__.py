"""Checkpoint formats, each a small loader behind one registry, and ``load_checkpoint``.

    torchscript   torch.jit.save archives
    cohen         Cohen et al.'s / Salman et al.'s {'epoch', 'arch', 'state_dict', 'optimizer'}
    state_dict    a plain state_dict of a named architecture (``arch``)
    pickle        a whole module saved with torch.save(model) (needs ``trust_pickle``)

``format = "auto"`` tries them in that order; a file in none of them gets an error that
names every format tried, why each failed, and the config key. Files that hold more than
tensors, dicts and numbers are pickles that run code when read: they load only when the
config sets ``trust_pickle = true``, and the error says so.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from baselines.checkpoints import cohen, pickled_module, state_dict, torchscript  # noqa: F401
from baselines.checkpoints.base import (
    CheckpointError,
    CheckpointFile,
    CheckpointFormat,
    DamagedCheckpoint,
    LoadRequest,
    NeedsTrust,
    NotThisFormat,
)
from baselines.checkpoints.known import KNOWN_CHECKPOINTS, KnownCheckpoint, known_checkpoint
from baselines.checkpoints.registry import CHECKPOINT_FORMATS, formats_in_order, register_format
from smoothbench.names import unknown_name

AUTO = "auto"

__all__ = [
    "AUTO",
    "CHECKPOINT_FORMATS",
    "KNOWN_CHECKPOINTS",
    "CheckpointError",
    "DamagedCheckpoint",
    "CheckpointFormat",
    "KnownCheckpoint",
    "LoadRequest",
    "format_names",
    "known_checkpoint",
    "load_checkpoint",
    "register_format",
]


def format_names() -> list[str]:
    """``auto`` and every registered format, in the order ``auto`` tries them."""
    return [AUTO, *(cls.name for cls in formats_in_order())]


def load_checkpoint(
    path: str | Path, fmt: str = AUTO, request: LoadRequest | None = None
) -> nn.Module:
    """The model stored at ``path`` in format ``fmt`` (or the first format that reads it),
    on the CPU in eval mode."""
    request = request or LoadRequest()
    where = request.where
    path = Path(path)
    if not path.is_file():
        looked = "" if path.is_absolute() else f" (looked at {path.resolve()})"
        raise FileNotFoundError(f"config key '{where}.checkpoint': no file at {path}{looked}")
    file = CheckpointFile(path)
    if (damage := file.damage()) is not None:
        raise DamagedCheckpoint(
            f"config key '{where}.checkpoint': {path} is damaged: {damage} (a bad copy, a "
            "bad disk or an interrupted download); fetch the file again"
        )
    if fmt != AUTO:
        if fmt not in CHECKPOINT_FORMATS:
            raise CheckpointError(
                f"config key '{where}.format': {unknown_name('format', fmt, format_names())}"
            )
        try:
            return CHECKPOINT_FORMATS.get(fmt)().read(file, request)
        except NeedsTrust as err:
            raise CheckpointError(_trust_message(path, where, str(err))) from None
        except NotThisFormat as err:
            raise CheckpointError(
                f"config key '{where}.format' is {fmt!r}, but {path} is not in that format: "
                f"{err}; the formats are {format_names()}"
            ) from None
    tried: dict[str, list[str]] = {}
    needs_trust = False
    for cls in formats_in_order():
        try:
            return cls().read(file, request)
        except NotThisFormat as err:
            needs_trust |= isinstance(err, NeedsTrust)
            tried.setdefault(str(err), []).append(cls.name)
    reasons = "; ".join(f"{', '.join(names)}: {why}" for why, names in tried.items())
    message = (
        f"config key '{where}.checkpoint': {path} is in none of the formats tried "
        f"({reasons}). Set '{where}.format' to one of {format_names()[1:]}"
    )
    if needs_trust:
        message += ". " + _trust_message(path, where, "")
    raise CheckpointError(message)


def _trust_message(path: Path, where: str, reason: str) -> str:
    """What to do about a pickle; ``reason`` (if given) says why it needs trust."""
    lead = f"{path}: {reason}. " if reason else ""
    return (
        f"{lead}If it is a whole module saved with torch.save(model), or a checkpoint that "
        f"holds other Python objects, set '{where}.trust_pickle = true', but only for a file "
        "whose source you trust"
    )
