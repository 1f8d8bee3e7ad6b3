"""The sampler's GPU code paths, run on the CPU: torch's generator for the base draws,
whole-batch tiles (a GPU's), torch's elementwise math, and the mixed l2/l-inf noise's
dense path (which a GPU always takes); and a log of the aten operations a piece of code
reaches, to tell those that wait for the host on CUDA, and of the new tensors it allocates."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

import harness.draws as draws
import harness.sampler as sampler
from harness.noise import ufuncs
from harness.noise.batch import Batch
from harness.noise.mixed_norm import MixedNorm


class TorchSourceDrawStream(draws.DrawStream):
    """The base draws from torch's generator, as on a GPU."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, source="torch", **kwargs)


def gpu_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the sampler take, on the CPU, the paths it takes on a GPU."""
    monkeypatch.setattr(ufuncs, "USE_NUMPY_UFUNCS", False)
    monkeypatch.setattr(sampler, "DrawStream", TorchSourceDrawStream)

    def whole_batch(self):
        yield slice(0, self.rows)

    def scratch(self, name, rows, dtype):
        return self.workspace.get(name, (rows, self.dim), dtype, self.G.device)

    monkeypatch.setattr(Batch, "row_tiles", whole_batch)
    monkeypatch.setattr(Batch, "tile_rows", lambda self: self.rows)
    monkeypatch.setattr(Batch, "scratch", scratch)
    monkeypatch.setattr(Batch, "host_scratch", lambda self, name, rows, dtype: None)
    monkeypatch.setattr(MixedNorm, "expected_moved_share", lambda self: 1.0)


#: aten operations that wait for the host on CUDA: an output whose shape depends on the
#: data, a value read back, or a tensor made from host values.
SYNCING = frozenset(
    {
        "aten::_local_scalar_dense", "aten::item", "aten::nonzero", "aten::unique",
        "aten::_unique", "aten::_unique2", "aten::unique_dim", "aten::unique_consecutive",
        "aten::masked_select", "aten::bincount", "aten::repeat_interleave", "aten::equal",
        "aten::is_nonzero", "aten::allclose", "aten::histc", "aten::lift_fresh",
        "aten::_assert_async", "aten::multinomial", "aten::masked_scatter_",
    }
)  # fmt: skip


class OpLog(TorchDispatchMode):
    """The aten operations run inside it, by name, and the boolean-mask indexings."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: Counter[str] = Counter()
        self.boolean_masks = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func._schema.name
        self.ops[name] += 1
        if name in ("aten::index", "aten::index_put_", "aten::index_put"):
            masks = [t for t in args[1] if isinstance(t, torch.Tensor) and t.dtype == torch.bool]
            self.boolean_masks += bool(masks)
        return func(*args, **(kwargs or {}))

    def syncing(self) -> dict[str, int]:
        """The operations that would wait for the host on CUDA, with how often each ran."""
        found = {k: v for k, v in self.ops.items() if k in SYNCING}
        if self.boolean_masks:
            found["boolean-mask indexing"] = self.boolean_masks
        return found


class FreshTensors(TorchDispatchMode):
    """The outputs of at least ``at_least`` values that share no storage with an input (a
    new allocation, not a view, an in-place or an ``out=`` write), by operation."""

    def __init__(self, at_least: int) -> None:
        super().__init__()
        self.at_least = at_least
        self.fresh: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        given = {
            t.untyped_storage().data_ptr()
            for t in tree_flatten((args, kwargs))[0]
            if isinstance(t, torch.Tensor)
        }
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.numel() >= self.at_least:
                if t.untyped_storage().data_ptr() not in given:
                    self.fresh[func._schema.name] += 1
        return out
