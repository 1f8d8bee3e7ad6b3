"""Seeded base draws ``G ~ N(0, I_d)``, addressed by (seed, image index, stream, chunk).

Rows of a stream are cut into fixed chunks of ``CHUNK_ROWS``; each chunk has its own
generator seed, derived from ``(seed, index, stream, chunk)`` by numpy's SeedSequence.
Row ``j`` of a stream is therefore the same whatever the batch size, and a resumed run
draws exactly what an uninterrupted one would. The draws depend on the device's
generator (CPU and CUDA produce different, equally valid streams); the run manifest
records the device.
"""

from __future__ import annotations

import numpy as np
import torch

CHUNK_ROWS = 1000
SELECTION = 0  # the n0 draws that choose the top class
ESTIMATION = 1  # the n draws that bound its probability


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``None`` or ``"auto"``: CUDA when available, else the CPU; otherwise as given."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but CUDA is not available")
    return dev


def chunk_seed(seed: int, index: int, stream: int, chunk: int) -> int:
    """A 63-bit generator seed for one chunk, well mixed by SeedSequence."""
    for name, v in (("seed", seed), ("index", index), ("stream", stream), ("chunk", chunk)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0:
            raise ValueError(f"{name} must be a non-negative int, got {v!r}")
    words = np.random.SeedSequence([int(seed), int(index), int(stream), int(chunk)])
    hi, lo = words.generate_state(2, dtype=np.uint32)
    return ((int(hi) << 32) | int(lo)) & ((1 << 63) - 1)


class DrawStream:
    """The base-normal rows of one (seed, image index, stream) on one device."""

    def __init__(
        self,
        seed: int,
        index: int,
        stream: int,
        dim: int,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        chunk_seed(seed, index, stream, 0)  # validates
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self.seed, self.index, self.stream, self.dim = int(seed), int(index), int(stream), dim
        self.device = torch.device(device)
        self.dtype = dtype
        self._generator = torch.Generator(device=self.device)
        self._chunk_buf: torch.Tensor | None = None
        self._chunk_id = -1

    def _generate(self, chunk: int, out: torch.Tensor) -> None:
        self._generator.manual_seed(chunk_seed(self.seed, self.index, self.stream, chunk))
        torch.randn(out.shape, generator=self._generator, out=out)

    def fill(self, out: torch.Tensor, start: int) -> torch.Tensor:
        """Write rows ``[start, start + len(out))`` of the stream into ``out``."""
        rows = out.shape[0]
        pos = 0
        while pos < rows:
            row = start + pos
            chunk, offset = divmod(row, CHUNK_ROWS)
            take = min(CHUNK_ROWS - offset, rows - pos)
            if offset == 0 and take == CHUNK_ROWS:
                self._generate(chunk, out[pos : pos + take])
            else:
                if self._chunk_id != chunk:
                    if self._chunk_buf is None:
                        self._chunk_buf = torch.empty(
                            CHUNK_ROWS, self.dim, device=self.device, dtype=self.dtype
                        )
                    self._generate(chunk, self._chunk_buf)
                    self._chunk_id = chunk
                out[pos : pos + take].copy_(self._chunk_buf[offset : offset + take])
            pos += take
        return out

    def rows(self, start: int, stop: int) -> torch.Tensor:
        """Rows ``[start, stop)`` as a new tensor (convenience; the sampler uses ``fill``)."""
        out = torch.empty(stop - start, self.dim, device=self.device, dtype=self.dtype)
        return self.fill(out, start)
