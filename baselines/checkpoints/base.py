"""What every checkpoint format shares: the file as read once (``CheckpointFile``), the
request (``LoadRequest``), the format interface and its errors."""

from __future__ import annotations

import pickle
import warnings
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

#: A pickle that ``torch.load(weights_only=True)`` refuses runs code of its own when read.
PICKLE_WHY = (
    "reading it needs torch.load(weights_only=False), which runs whatever code the file "
    "names (a pickle can execute anything)"
)


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded; the message names the config key."""


class DamagedCheckpoint(CheckpointError):
    """A file whose bytes do not match the checksums it stores: damaged, not another
    file (fetch it again)."""


class NotThisFormat(Exception):
    """The file is not in the format tried; ``str`` says why (for the error that lists
    every format tried)."""


class NeedsTrust(NotThisFormat):
    """The file may be in this format, but reading it means unpickling code."""


@dataclass(frozen=True)
class LoadRequest:
    """What the config says about a checkpoint: ``arch`` (``models[i].arch``), whether
    pickles may be read (``trust_pickle``), and ``where`` (``models[i]``) for messages."""

    arch: str | None = None
    trust_pickle: bool = False
    where: str = "models[0]"


@dataclass
class CheckpointFile:
    """A checkpoint file, read at most once per way of reading it."""

    path: Path
    _weights_only: tuple[Any, Exception | None] | None = field(default=None, repr=False)
    _trusted: tuple[Any, Exception | None] | None = field(default=None, repr=False)

    def is_torchscript(self) -> bool:
        """A zip archive with TorchScript's ``constants.pkl`` and ``code/``."""
        if not zipfile.is_zipfile(self.path):
            return False
        with zipfile.ZipFile(self.path) as archive:
            names = archive.namelist()
        return any(n.endswith("/constants.pkl") for n in names) and any(
            "/code/" in n for n in names
        )

    def damage(self) -> str | None:
        """What is wrong with a zip archive (torch's format since 1.6, TorchScript's) whose
        bytes were damaged, or ``None``: its first entry whose bytes do not match the
        CRC-32 the archive stores for it, or an entry it cannot decompress. A damaged copy
        or an interrupted download that ``torch.load``, which does not check the CRCs,
        would read as other weights. The legacy pickle format has no checksum."""
        if not zipfile.is_zipfile(self.path):
            return None
        try:
            with zipfile.ZipFile(self.path) as archive:
                entry = archive.testzip()
        except Exception as err:  # zlib.error, an encrypted or unknown-method entry, ...
            kind = type(err).__name__
            if type(err).__module__ != "builtins":
                kind = f"{type(err).__module__}.{kind}"  # zlib.error, not "error"
            return f"an entry of its archive cannot be read ({kind}: {_short(err)})"
        if entry is None:
            return None
        return f"its entry {entry} does not match the checksum the file stores for it"

    def _head(self, size: int = 16) -> bytes:
        with open(self.path, "rb") as f:
            return f.read(size)

    def may_be_a_pickle(self) -> bool:
        """A zip archive (torch's format) or a pickle of protocol 2 or later (torch's
        legacy format), by the file's first bytes."""
        return zipfile.is_zipfile(self.path) or self._head(1) == b"\x80"

    def weights_only(self) -> Any:
        """``torch.load(weights_only=True)``: tensors, dicts, lists and numbers only.
        Raises ``NeedsTrust`` for a pickle of other objects, ``NotThisFormat`` for a file
        torch cannot read."""
        if self._weights_only is None:
            try:
                self._weights_only = (self._load(weights_only=True), None)
            except pickle.UnpicklingError:
                # torch says "weights only load failed" for any bytes it cannot unpickle:
                # only a zip archive or a pickle (protocol 2 on) holds objects to trust
                self._weights_only = (
                    None,
                    NeedsTrust(f"it pickles Python objects; {PICKLE_WHY}")
                    if self.may_be_a_pickle()
                    else NotThisFormat(
                        "it is not a PyTorch checkpoint: neither a zip archive nor a pickle "
                        f"(it begins {self._head()!r}); is the file complete, not an error "
                        "page saved by a failed download?"
                    ),
                )
            except Exception as err:  # torch raises many kinds on a foreign file
                self._weights_only = (
                    None,
                    NotThisFormat(f"torch.load cannot read it ({_short(err)})"),
                )
        payload, error = self._weights_only
        if error is not None:
            raise error
        return payload

    def trusted(self) -> Any:
        """``torch.load(weights_only=False)``: only when the config trusts pickles."""
        if self._trusted is None:
            try:
                self._trusted = (self._load(weights_only=False), None)
            except Exception as err:
                self._trusted = (
                    None,
                    NotThisFormat(f"torch.load cannot unpickle it ({_short(err)})"),
                )
        payload, error = self._trusted
        if error is not None:
            raise error
        return payload

    def payload(self, request: LoadRequest) -> Any:
        """The weights-only payload, or the fully unpickled one where that is refused and
        the config trusts pickles."""
        try:
            return self.weights_only()
        except NeedsTrust:
            if not request.trust_pickle:
                raise
            return self.trusted()

    def _load(self, weights_only: bool) -> Any:
        if self.is_torchscript():
            raise NotThisFormat("it is a TorchScript archive")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return torch.load(self.path, map_location="cpu", weights_only=weights_only)


def _short(err: Exception) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:160]


class CheckpointFormat:
    """One way a model is stored. ``read`` returns the model (eval mode, on the CPU), or
    raises ``NotThisFormat`` when the file is not of this format and ``CheckpointError``
    when it is but cannot be loaded as the config asks. ``order`` is the place in the
    ``auto`` search."""

    name: str = ""
    order: int = 100
    summary: str = ""

    def read(self, file: CheckpointFile, request: LoadRequest) -> nn.Module:
        raise NotImplementedError


def is_state_dict(obj: Any) -> bool:
    """A mapping from parameter names to tensors."""
    return (
        isinstance(obj, Mapping)
        and bool(obj)
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())
    )


def without_data_parallel(state: Mapping[str, torch.Tensor]) -> OrderedDict[str, torch.Tensor]:
    """Drop the ``module.`` level that ``DataParallel`` adds to every key inside it
    (``1.module.conv1.weight`` -> ``1.conv1.weight``)."""
    out: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, value in state.items():
        out[".".join(part for part in key.split(".") if part != "module")] = value
    return out


def load_weights(
    model: nn.Module, state: Mapping[str, torch.Tensor], arch: str, request: LoadRequest
) -> nn.Module:
    """``model.load_state_dict(state)`` strictly, with ``DataParallel``'s ``module.`` level
    removed; a mismatch is a ``CheckpointError`` that lists the keys."""
    state = without_data_parallel(state)
    expected = model.state_dict()
    # files of torch before 0.4.1 have no batch-norm counters; loading fills them in
    missing = [k for k in expected if k not in state and not k.endswith(".num_batches_tracked")]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        raise CheckpointError(
            f"config key '{request.where}.arch': the checkpoint's weights do not fit "
            f"architecture {arch!r}: {len(missing)} keys missing (e.g. {missing[:3]}), "
            f"{len(unexpected)} unexpected (e.g. {unexpected[:3]})"
        )
    shapes = [k for k, v in state.items() if tuple(v.shape) != tuple(expected[k].shape)]
    if shapes:
        k = shapes[0]
        raise CheckpointError(
            f"config key '{request.where}.arch': {len(shapes)} tensors have another shape "
            f"than architecture {arch!r} gives them, e.g. {k}: {tuple(state[k].shape)} in the "
            f"file, {tuple(expected[k].shape)} in the architecture"
        )
    model.load_state_dict(state, strict=True)
    return model.eval()
