"""One batch of base draws ``G`` and what several noise families compute from it.

The sampler transforms one batch of base draws with every noise of an image. A
``Batch`` holds the draws and computes, at most once per batch, the per-row statistics
that more than one family needs: ``||G||_2^2`` (the spherical families) and
``||G||_inf`` (the l-inf and mixed-norm families). It
also owns a ``Workspace`` of scratch buffers that persists across batches, so that the
hot loop allocates nothing, and cuts the rows into tiles (``row_tiles``) whose scratch
stays in the CPU's cache; on a GPU a tile is the whole batch.

Everything stays on the draws' device: no statistic is read back to the host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch

from harness.noise import ufuncs
from harness.noise.device import concrete_device

#: Values per tile on the CPU: a float64 scratch of this size (1 MiB) stays in L2.
TILE_VALUES = 1 << 17


class Workspace:
    """Scratch buffers by (name, dtype, device), grown on demand and reused."""

    def __init__(self) -> None:
        self._buffers: dict[tuple[str, torch.dtype, torch.device], torch.Tensor] = {}
        # the views handed out, by (name, dtype, device as asked, shape): a view costs
        # several microseconds to make, and the transforms ask for one per tile
        self._shaped: dict[tuple[object, ...], torch.Tensor] = {}
        self._constants: dict[object, torch.Tensor] = {}
        self._views: dict[object, Any] = {}
        #: What some buffers hold, by name, for callers that reuse their contents from one
        #: call to the next: whoever writes a tagged buffer sets or drops its tag, and a new
        #: allocation under a name drops it.
        self.tags: dict[str, object] = {}

    def constant(self, key: object, build: Callable[[], torch.Tensor]) -> torch.Tensor:
        """A tensor built once by ``build`` and kept under ``key``."""
        value = self._constants.get(key)
        if value is None:
            value = self._constants[key] = build()
        return value

    def get(
        self, name: str, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device
    ) -> torch.Tensor:
        """A buffer of ``shape`` (contents undefined), a view of a reused allocation; the
        same view for the same request while the allocation lasts."""
        shaped = (name, dtype, device, shape)
        view = self._shaped.get(shaped)
        if view is not None:
            return view
        numel = 1
        for s in shape:
            numel *= s
        key = (name, dtype, concrete_device(device))
        buf = self._buffers.get(key)
        if buf is None or buf.numel() < numel:
            buf = torch.empty(max(numel, 1), dtype=dtype, device=device)
            self._buffers[key] = buf
            self.tags.pop(name, None)
            stale = [
                k for k, v in self._shaped.items() if k[:2] == key[:2] and v.device == buf.device
            ]
            for k in stale:
                del self._shaped[k]
        view = self._shaped[shaped] = buf[:numel].view(shape)
        return view

    def nbytes(self) -> int:
        """The bytes of the buffers held (not of the constants: tables of fixed size)."""
        return sum(b.numel() * b.element_size() for b in self._buffers.values())

    def host_view(self, buffer: torch.Tensor, make: Callable[[], Any]) -> Any:
        """A host (numpy) view of a CPU ``buffer`` of this workspace, made once."""
        key = ("host view", buffer.data_ptr(), tuple(buffer.shape), buffer.dtype)
        view = self._views.get(key)
        if view is None:
            view = self._views[key] = make()
        return view

    def get_like(self, name: str, like: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """A buffer of ``like``'s shape and device in ``dtype``."""
        return self.get(name, tuple(like.shape), dtype, like.device)


class Batch:
    """Base draws ``G`` of shape ``(rows, dim)`` and their shared per-row statistics."""

    def __init__(self, G: torch.Tensor, workspace: Workspace | None = None) -> None:
        if not isinstance(G, torch.Tensor):
            raise TypeError(f"G must be a torch.Tensor, got {type(G).__name__}")
        self.G = G
        self.workspace = workspace if workspace is not None else Workspace()
        self._sq_norm: torch.Tensor | None = None
        self._linf_norm: torch.Tensor | None = None

    @classmethod
    def of(cls, G: torch.Tensor | Batch) -> Batch:
        """``G`` itself when it is a ``Batch``, else a new one around the tensor."""
        return G if isinstance(G, Batch) else cls(G)

    @property
    def rows(self) -> int:
        return self.G.shape[0]

    @property
    def dim(self) -> int:
        return self.G.shape[1]

    def sq_norm(self) -> torch.Tensor:
        """``||G||_2^2`` per row, accumulated in float64 (tile by tile through a float64
        scratch that stays in cache: converting the whole batch at once costs three
        times as much on the CPU)."""
        if self._sq_norm is None:
            norm = torch.empty(self.rows, dtype=torch.float64, device=self.G.device)
            for rows in self.row_tiles():
                w = self.scratch("batch float64", rows.stop - rows.start, torch.float64)
                torch.linalg.vector_norm(w.copy_(self.G[rows]), dim=1, out=norm[rows])
            self._sq_norm = norm.square_()
        return self._sq_norm

    def linf_norm(self) -> torch.Tensor:
        """``max_i |G_i|`` per row, in float64 (exact: the largest entry, converted); one
        pass, tile by tile, through a scratch tile of ``|G|``."""
        if self._linf_norm is None:
            top = torch.empty(self.rows, dtype=self.G.dtype, device=self.G.device)
            for rows in self.row_tiles():
                a = self.scratch("batch abs", rows.stop - rows.start, self.G.dtype)
                torch.amax(torch.abs(self.G[rows], out=a), dim=1, out=top[rows])
            self._linf_norm = top.to(torch.float64)
        return self._linf_norm

    def scratch(self, name: str, rows: int, dtype: torch.dtype) -> torch.Tensor:
        """A ``(rows, dim)`` scratch buffer of ``dtype`` on the draws' device. On the CPU
        its allocation holds a whole tile (``TILE_VALUES``) from the first call, so that it
        never grows later (nor needs a new host view, ``host_scratch``)."""
        device = self.G.device
        if device.type == "cpu":
            self.workspace.get(name, (self._full_tile_rows(), self.dim), dtype, device)
        return self.workspace.get(name, (rows, self.dim), dtype, device)

    def host_scratch(self, name: str, rows: int, dtype: torch.dtype) -> Any:
        """``scratch(name, rows, dtype)`` as a numpy array sharing its memory on the CPU
        (the first rows of a view of the whole tile, made once: ``Workspace.host_view``);
        ``None`` on another device."""
        if self.G.device.type != "cpu":
            return None
        tile = self.scratch(name, self._full_tile_rows(), dtype)
        return self.workspace.host_view(tile, tile.numpy)[:rows]

    def ufunc_scratch(self, name: str, rows: int, dtype: torch.dtype) -> Any:
        """``host_scratch(name, rows, dtype)`` where the elementwise math of a transform
        takes numpy's ufuncs (a CPU where numpy runs them on AVX512:
        ``harness.noise.ufuncs``); ``None`` where it takes torch's kernels."""
        if not ufuncs.USE_NUMPY_UFUNCS:
            return None
        return self.host_scratch(name, rows, dtype)

    def row_tiles(self) -> Iterator[slice]:
        """Slices of rows, each of at most ``TILE_VALUES`` values (at least one row) on
        the CPU; the whole batch on another device."""
        rows = self.rows
        if self.G.device.type != "cpu":
            yield slice(0, rows)
            return
        step = self._full_tile_rows()
        for start in range(0, rows, step):
            yield slice(start, min(rows, start + step))

    def tile_rows(self) -> int:
        """The largest number of rows a tile of ``row_tiles`` holds."""
        if self.G.device.type != "cpu":
            return self.rows
        return min(self.rows, self._full_tile_rows())

    def _full_tile_rows(self) -> int:
        """Rows of a whole CPU tile, whatever the batch: at most ``TILE_VALUES`` values."""
        return max(1, TILE_VALUES // max(1, self.dim))
