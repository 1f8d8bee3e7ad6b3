"""Seeded base draws ``G ~ N(0, I_d)``, addressed by (seed, image index, stream, chunk).

Rows of a stream are cut into fixed chunks of ``CHUNK_ROWS``; each chunk has its own
seed, derived from ``(seed, index, stream, chunk)`` by numpy's SeedSequence. Row ``j`` of
a stream is therefore the same whatever the batch size, and a resumed run draws exactly
what an uninterrupted one would.

**The method** (``DRAW_METHOD``): Box-Muller pairs
``(g_1, g_2) = R (cos theta, sin theta)``, ``R = sqrt(-2 ln(u + 2^-54))``,
``theta = 2 pi v``, with ``u`` and ``v`` uniforms of 53 random bits (``k 2^-53`` on the
CPU, float64; ``u + 2^-54`` lies in ``u``'s cell and is never 0). ``R`` is computed
in float64, the angle and the pair in the output dtype (float32 in the sampler): with
numpy's ufuncs (``polar_factors_host``) on a CPU where numpy runs them on AVX512
(``harness.noise.ufuncs``), elsewhere with torch's kernels. The
uniforms come from the device: one SFC64 stream of numpy per chunk on the CPU, read
block by block (for each block, its ``u`` then its ``v``), torch's Philox generator on a
GPU (seeded per super-block, a chunk cut into equal super-blocks of about
``SUPER_VALUES`` values or fewer, each always drawn whole, so that a prefix of a chunk
never depends on how much of it was asked for). CPU and GPU streams differ; each is a
valid stream, and the run identity records the method, its source and the device type.
GPUs of different models draw different streams from one seed too: torch's Philox
kernels size their grid by the GPU's multiprocessor count, and a value's place in the
grid decides which random numbers it gets (``philox_grid``, which each session records).

**Layout**: a chunk (``rows x dim``, row-major) is cut into blocks of ``block_rows(dim)``
whole rows (a divisor of ``CHUNK_ROWS``, about ``BLOCK_VALUES`` values); a block holds
the cosines of its pairs and then their sines, and its uniforms are read in one piece
(its ``u`` then its ``v``). A prefix of a chunk (its first rows) is generated without the
rest, and a whole chunk without a partial block. A stream remembers where it stopped, so
that rows asked for next continue from there and batches of any size draw each block once:
on the CPU its chunk's generator and a last, partial block; on a GPU the uniforms of the
super-block it stopped in, unconsumed beyond the blocks it took, and a last partial block
(the workspace's tags say what its buffers hold). Rows asked for anywhere else come, on
the CPU, from their whole chunk, generated again; on a GPU, from the super-block they
start in, drawn again.

**How exact** (``draw_distance``): given its two uniforms, a pair is the exact Box-Muller
image, which is N(0, I_2). The uniforms are quantized to cells of ``2^-53`` (on a GPU
torch's float64 uniforms are cuRAND's ``(k + 1/2) 2^-53``, rounded to even above 1/2, with
1 read as 0: ``u + 2^-54`` is then, below 1/2, the lower end of the cell it stands for,
``0 + 2^-54`` standing for the first, and above 1/2 the middle of a cell of ``2^-52``, so
that the bounds below hold as they are): the radius is taken at ``u + 2^-54`` in float64
(the midpoint of ``u``'s cell below 1/2, an end of it above, where float64 has no finer
grid), and the angle is rounded to the output dtype (float32: one rounding to a grid no
coarser than ``2^-21``, at most ``2^-22``; with the at most ``2 * 2^-24`` error of float32
cos and sin (numpy's bound is 1.49 ulp, CUDA's 2 ulp), a move of at most ``3.6e-7 R`` per
coordinate, the order of float32 rounding of the output). Along its radius a pair moves
within its cell: by at most ``2^-53 / (u R)``, less than ``1.5e-8`` wherever ``u > 2^-28``
(then ``R < 6.2``), and unbounded only in the first cell, ``u < 2^-53``, where every
radius beyond 8.57 is represented by ``sqrt(108 ln 2) = 8.65``: probability ``2^-53`` per
pair. The mass the draws cannot represent is thus ``(d / 2) 2^-53`` per row: ``8.4e-12``
at ImageNet size (d = 150,528), where float32 ``torch.randn`` on the CPU (Box-Muller on
24-bit uniforms, ``|g| <= 5.768``) misses ``(d / 2) 2^-24 = 4.5e-3``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from harness.noise import ufuncs
from harness.noise.batch import Workspace
from harness.noise.device import concrete_device

CHUNK_ROWS = 1000
SELECTION = 0  # the n0 draws that choose the top class
ESTIMATION = 1  # the n draws that bound its probability

#: Values a block of the chunk layout aims at (a block is whole rows: ``block_rows``).
BLOCK_VALUES = 8192
#: Values per seeded super-block of a device (GPU) generator (whole blocks), about: a
#: chunk's blocks shared out evenly can take a few more (``superblock_blocks``).
SUPER_VALUES = 1 << 22
#: The GPU source's name: ``v2`` cuts each chunk into super-blocks of equal size
#: (``superblock_blocks``); the first version drew whole ones of ``SUPER_VALUES``
#: whatever the chunk needed: 65 times the uniforms needed at d = 64, 1.36 times at
#: d = 3072, about 1.7 times at d = 5,000.
DEVICE_SOURCE = "torch-philox-v2"
#: Values per tile of the CPU path (the uniforms and the pairs stay in cache).
_TILE_VALUES = 1 << 17
UNIFORM_BITS = 53
_HALF_CELL = 2.0 ** -(UNIFORM_BITS + 1)
#: The largest radius the draws reach: ``u + 2^-54 >= 2^-54``.
RADIUS_CUT = math.sqrt(2.0 * (UNIFORM_BITS + 1) * math.log(2.0))
#: The largest move of a float32 coordinate of a pair, per unit of radius: half the float32
#: grid of angles below 8 (``2^-22``) plus the largest error of the float32 cos and sin
#: that compute it, 2 ulp of values below 1 (CUDA's documented bound for ``sinf`` and
#: ``cosf``; numpy's is 1.49 ulp, torch's on the CPU tighter).
FLOAT32_ANGLE_MOVE = 2.0**-22 + 2.0 * 2.0**-24
DRAW_METHOD = f"box-muller(u{UNIFORM_BITS},v{UNIFORM_BITS},rows-blocks{BLOCK_VALUES})"
_TWO_PI = 2.0 * math.pi


@lru_cache(maxsize=256)
def block_rows(dim: int) -> int:
    """Rows per block for rows of ``dim`` values: the largest divisor of ``CHUNK_ROWS``
    whose block holds at most ``BLOCK_VALUES`` values (at least one row) and an even
    number of them (whole pairs). Chunks are thus whole blocks."""
    best = 0
    for rows in range(1, CHUNK_ROWS + 1):
        if CHUNK_ROWS % rows == 0 and (rows * dim) % 2 == 0:
            if rows * dim <= BLOCK_VALUES or best == 0:
                best = rows
    if best == 0:
        raise ValueError(f"no block of whole rows holds whole pairs for dim={dim}")
    return best


#: The device types a model can run on here (``meta`` holds no data; others are untested).
DEVICE_TYPES = ("cpu", "cuda", "mps")


def parse_device(device: str | torch.device) -> torch.device:
    """A device string checked for its form and type, not for its presence: ``cpu``,
    ``cuda``, ``cuda:N`` or ``mps`` (``auto`` is resolved by ``resolve_device``)."""
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        try:
            dev = torch.device(device)
        except (RuntimeError, ValueError, TypeError):
            dev = None
        if dev is None or not device.strip():
            raise ValueError(f"device {device!r} is not a device: use auto, cpu, cuda or cuda:N")
    else:
        raise ValueError(f"device must be a string such as 'cuda:0', got {device!r}")
    if dev.type not in DEVICE_TYPES:
        raise ValueError(
            f"device {device!r} cannot run a model here: use auto, cpu, cuda or cuda:N"
        )
    return dev


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``None`` or ``"auto"``: CUDA when available, else the CPU; otherwise as given, if
    this machine has it (``ValueError`` naming what it has otherwise)."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = parse_device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} was asked for but CUDA is not available")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ValueError(
                f"device {device!r} was asked for but this machine has {count} GPU(s) "
                f"(cuda:0 to cuda:{count - 1})"
            )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} was asked for but MPS is not available")
    return dev


#: The CPU source's name in stores written before it was ``numpy-sfc64``: it also named
#: numpy's ufuncs, which not every CPU takes (``harness.noise.ufuncs``).
LEGACY_CPU_SOURCE = "numpy-sfc64-ufuncs"


def draw_method(device: torch.device | str) -> str:
    """The method and the source of its uniforms on ``device`` (part of the run identity).
    The elementwise math that turns them into normals (numpy's ufuncs or torch's kernels,
    ``harness.noise.ufuncs.math_path``) is recorded apart, as provenance: both paths are
    within the bounds the method states, and their draws differ in last bits only."""
    source = "numpy-sfc64" if torch.device(device).type == "cpu" else DEVICE_SOURCE
    return f"{DRAW_METHOD}/{source}"


def superblock_blocks(dim: int) -> int:
    """Blocks per super-block of the GPU source: a chunk's blocks shared out evenly over
    as many super-blocks as its values fill ``SUPER_VALUES`` (rounded up), of equal size
    but the last, so a super-block may hold a few more values than that (at d =
    64 one super-block of 64,000 values; at d = 150,528, 36 of 28 rows, the last holding
    the 20 left, drawn whole)."""
    values = block_rows(dim) * dim
    per_chunk = CHUNK_ROWS // block_rows(dim)
    parts = -(-per_chunk * values // SUPER_VALUES)
    return -(-per_chunk // parts)


def philox_blocks(grid: int, dim: int) -> int:
    """The thread blocks torch's Philox kernel launches for the uniforms of one super-block
    of rows of ``dim`` values on a GPU whose grid is capped at ``grid`` (``philox_grid``):
    one block of 256 threads per 256 values, at most ``grid``. Two GPUs draw the same
    values where this is the same (at d = 64 a super-block of 64,000 uniforms takes 250
    blocks, fewer than any GPU's cap; at d = 3072, 12,000 blocks, more than any)."""
    uniforms = superblock_blocks(dim) * 2 * (block_rows(dim) * dim // 2)  # u, v a pair
    return min(int(grid), -(-uniforms // 256))


def philox_grid(device: torch.device | str) -> int | None:
    """The most thread blocks torch's Philox kernels launch on ``device`` (its
    multiprocessor count times the 256-thread blocks one holds: ``calc_execution_policy``
    in ATen's ``DistributionTemplates.h``). A call of more values than the grid's
    threads spreads them over it, so GPUs with other grids draw other values from one
    seed. ``None`` off a CUDA device, or where none is visible."""
    device = torch.device(device)
    if device.type != "cuda" or not torch.cuda.is_available():
        return None
    props = torch.cuda.get_device_properties(device)
    return int(props.multi_processor_count) * (int(props.max_threads_per_multi_processor) // 256)


def draw_distance(dim: int) -> dict[str, Any]:
    """How far the base draws of one row of dimension ``dim`` are from N(0, I_dim) (see the
    module docstring), for the run manifest."""
    pairs = math.ceil(dim / 2)
    return {
        "method": DRAW_METHOD,
        "dim": int(dim),
        "radius_cut": RADIUS_CUT,
        "unreachable_mass_per_row": pairs * 2.0**-UNIFORM_BITS,
        "uniform_grid": 2.0**-UNIFORM_BITS,
        "float32_angle_move_per_unit_radius": FLOAT32_ANGLE_MOVE,
        "float32_randn_unreachable_mass_per_row": pairs * 2.0**-24,
    }


def _check_address(seed: int, index: int, stream: int, chunk: int) -> None:
    for name, v in (("seed", seed), ("index", index), ("stream", stream), ("chunk", chunk)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0:
            raise ValueError(f"{name} must be a non-negative int, got {v!r}")


def chunk_sequence(seed: int, index: int, stream: int, chunk: int) -> np.random.SeedSequence:
    """The SeedSequence of one chunk; its children seed the chunk's uniform streams."""
    _check_address(seed, index, stream, chunk)
    return np.random.SeedSequence([int(seed), int(index), int(stream), int(chunk)])


def box_muller(
    uv: torch.Tensor,
    cos_out: torch.Tensor,
    sin_out: torch.Tensor,
    radius: torch.Tensor,
    theta: torch.Tensor,
) -> None:
    """Box-Muller on blocks of uniforms: ``uv`` (float64, shape ``(blocks, 2, pairs)``)
    holds ``u`` in ``uv[:, 0]`` and ``v`` in ``uv[:, 1]``, both on the grid ``k 2^-53``;
    write ``R cos(2 pi v)`` to ``cos_out`` and ``R sin(2 pi v)`` to ``sin_out`` (shape
    ``(blocks, pairs)``, one float dtype), ``R = sqrt(-2 ln(u + 2^-54))``: ``u + 2^-54``
    lies in ``u``'s cell (its midpoint below 1/2) and is never 0. ``uv`` is overwritten;
    ``radius`` and ``theta`` (the outputs' dtype and shape) are scratch."""
    u, v = uv[:, 0], uv[:, 1]
    # the logarithm in float64 (within an ulp), rounded once to the output
    torch.log(u.add_(_HALF_CELL), out=u)
    radius.copy_(u).mul_(-2.0).sqrt_()
    theta.copy_(v.mul_(_TWO_PI))  # one rounding of the float64 angle
    torch.cos(theta, out=cos_out).mul_(radius)
    torch.sin(theta, out=sin_out).mul_(radius)


def polar_factors_host(
    uv: np.ndarray, radius: np.ndarray, cosine: np.ndarray, sine: np.ndarray
) -> None:
    """The factors of ``box_muller``'s float32 pairs on the host, with numpy's vectorized
    ufuncs: ``R`` into ``radius``, ``cos theta`` into ``cosine``, ``sin theta`` into
    ``sine`` (float32, shape ``(blocks, pairs)``); the pairs are ``R cos theta`` and
    ``R sin theta``, one float32 product each. numpy's float64 ``log`` (measured within
    0.62 ulp; torch's 0.74) and its float32 ``cos`` and ``sin`` (within 1.49 ulp by
    numpy's own bound for its SIMD loops, so at most ``1.49 * 2^-24`` off for values
    below 1; torch's are within 0.6 ulp) ran at twice the speed of torch's CPU kernels on
    an AVX512 CPU, where they are most of a draw's cost after the uniforms (without
    AVX512, torch's are the faster: ``harness.noise.ufuncs``). ``uv`` as in
    ``box_muller``, overwritten."""
    u, v = uv[:, 0], uv[:, 1]
    np.add(u, _HALF_CELL, out=u)
    np.log(u, out=u)
    radius[...] = u
    np.multiply(radius, -2.0, out=radius)
    np.sqrt(radius, out=radius)
    np.multiply(v, _TWO_PI, out=v)
    sine[...] = v  # the float32 angle
    np.cos(sine, out=cosine)
    np.sin(sine, out=sine)


def _cpu_uniforms(sequence: np.random.SeedSequence) -> np.random.Generator:
    """The uniforms of one chunk on the CPU: one SFC64 stream, read block by block."""
    return np.random.Generator(np.random.SFC64(sequence))


class DrawStream:
    """The base-normal rows of one (seed, image index, stream) on one device."""

    @staticmethod
    def device_bytes(dim: int) -> int:
        """The most memory a stream's buffers take on a GPU for rows of ``dim`` values,
        whatever the batch: a super-block's float64 uniforms and its float32 radii and
        angles, and a cut block. (Filling rows that are not contiguous takes a whole chunk
        more, which the sampler never does.)"""
        values = block_rows(dim) * dim
        super_values = superblock_blocks(dim) * values
        return super_values * (8 + 4) + values * 4

    def __init__(
        self,
        seed: int,
        index: int,
        stream: int,
        dim: int,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        workspace: Workspace | None = None,
        source: str | None = None,
    ) -> None:
        _check_address(seed, index, stream, 0)
        if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < 1:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"base draws are float32 or float64, never {dtype}")
        self.seed, self.index, self.stream, self.dim = int(seed), int(index), int(stream), dim
        self.device = concrete_device(device)
        self.dtype = dtype
        self._workspace = workspace if workspace is not None else Workspace()
        self._chunk_buf: torch.Tensor | None = None
        self._chunk_id = -1
        # where numpy's source stopped: (chunk, next block, its stream, the last partial
        # block kept whole or None), and that block's buffer
        self._place: tuple[int, int, np.random.Generator | None, torch.Tensor | None] | None
        self._place = None
        self._held: torch.Tensor | None = None
        self.block_rows = block_rows(dim)
        self._pairs = self.block_rows * dim // 2
        values = 2 * self._pairs
        # the uniforms: numpy's SFC64 on the CPU, torch's generator of the device elsewhere
        # (the tests also run the torch source on the CPU, to exercise the GPU path)
        default = "numpy" if self.device.type == "cpu" else "torch"
        self.source = default if source is None else source
        if self.source not in ("numpy", "torch") or (
            self.source == "numpy" and self.device.type != "cpu"
        ):
            raise ValueError(
                f"uniform source {source!r} on {self.device}: 'numpy' (CPU) or 'torch'"
            )
        cpu = self.source == "numpy"
        # blocks per step: a cache-sized tile on the CPU, a seeded super-block on a GPU
        self._step = max(1, _TILE_VALUES // values) if cpu else superblock_blocks(dim)
        get = self._workspace.get
        shape = (self._step, 2, self._pairs)
        self._uv = get("draws uv", shape, torch.float64, self.device)
        self._radius = get("draws radius", shape[::2], dtype, self.device)
        self._theta = get("draws theta", shape[::2], dtype, self.device)
        if cpu:
            # numpy writes the uniforms straight into the buffer, through a view made once
            # per workspace
            uv = self._uv
            self._uv_host = self._workspace.host_view(uv, lambda: uv.numpy())
        else:
            self._generator = torch.Generator(device=self.device)
        # float32 pairs from numpy's uniforms take numpy's ufuncs (polar_factors_host) where
        # numpy runs them on AVX512
        self._host_math = cpu and dtype == torch.float32 and ufuncs.USE_NUMPY_UFUNCS
        if self._host_math:
            # R, cos theta (in the theta scratch) and sin theta, as tensors and host views
            sine = get("draws sine", shape[::2], dtype, self.device)
            self._factors = (self._radius, self._theta, sine)
            self._factors_host = tuple(
                self._workspace.host_view(t, lambda t=t: t.numpy()) for t in self._factors
            )

    # chunks ----------------------------------------------------------------------------------
    def _generate(
        self,
        first_chunk: int,
        out: torch.Tensor,
        first_block: int = 0,
        rng: np.random.Generator | None = None,
    ) -> None:
        """Write the rows of ``out`` (contiguous) from block ``first_block`` of
        ``first_chunk`` on: every chunk to its end but the last, of which a prefix. Whole
        blocks are written in place, a last partial block through a scratch block. With
        numpy's source the chunks' streams are read one after the other into shared tiles,
        so a batch of many small rows costs one pass of Box-Muller; ``rng``, when given, is
        ``first_chunk``'s stream already read up to ``first_block`` (``_continue``). The
        device source's rows are ``_generate_device``'s."""
        if self.source != "numpy":
            self._generate_device(first_chunk, out, first_block * self.block_rows)
            return
        self._workspace.tags.pop("draws uv", None)  # numpy's uniforms replace what they held
        self._workspace.tags.pop("draws tail", None)
        rows = out.shape[0]
        br = self.block_rows
        per_chunk = CHUNK_ROWS // br
        blocks = -(-rows // br)
        full = rows // br
        flat = out.view(-1)
        block_values = 2 * self._pairs
        rng_chunk = first_chunk if rng is not None else -1
        for b0 in range(0, blocks, self._step):
            nb = min(self._step, blocks - b0)
            j = b0
            while j < b0 + nb:  # the blocks of this tile, chunk by chunk
                chunk, block = divmod(first_block + j, per_chunk)
                chunk += first_chunk
                if chunk != rng_chunk:
                    rng = _cpu_uniforms(chunk_sequence(self.seed, self.index, self.stream, chunk))
                    rng_chunk = chunk
                upto = min(b0 + nb, j + per_chunk - block)
                assert rng is not None
                rng.random(out=self._uv_host[j - b0 : upto - b0])
                j = upto
            nfull = max(0, min(nb, full - b0))
            if nfull:
                region = flat[block_values * b0 : block_values * (b0 + nfull)]
                region = region.view(nfull, 2, self._pairs)
                self._box_muller(0, nfull, region[:, 0], region[:, 1])
            if nfull < nb:  # the last, partial block: generated whole, then cut
                tail = self._workspace.get(
                    "draws tail", (1, 2, self._pairs), self.dtype, self.device
                )
                self._box_muller(nfull, 1, tail[:, 0], tail[:, 1])
                start = block_values * (b0 + nfull)
                flat[start:].copy_(tail.view(-1)[: flat.numel() - start])
        self._keep_place(first_chunk, first_block + blocks, rng, full < blocks)

    def _generate_device(self, chunk: int, out: torch.Tensor, first_row: int = 0) -> None:
        """Write ``out`` (contiguous rows) from row ``first_row`` of ``chunk`` on, with the
        device source. Whole blocks are written in place; a block cut at either end is
        generated whole in ``draws tail`` and cut from there. A super-block's uniforms are
        drawn whole, from its own seed, and a block turned into normals consumes its own
        uniforms only: the workspace's tags record which super-block ``draws uv`` holds,
        from which block on unconsumed, and which block ``draws tail`` holds, so that rows
        asked for next (the sampler's next batch) continue from them without drawing
        anything twice. Rows that start elsewhere draw the super-block they start in."""
        rows, pos = out.shape[0], 0
        while pos < rows:
            take = min(rows - pos, CHUNK_ROWS - first_row)
            self._device_rows(chunk, out[pos : pos + take], first_row)
            pos, chunk, first_row = pos + take, chunk + 1, 0

    def _device_rows(self, chunk: int, out: torch.Tensor, first_row: int) -> None:
        """``_generate_device`` within one chunk (``out`` ends in it)."""
        br, dim = self.block_rows, self.dim
        flat = out.view(-1)
        sequence = chunk_sequence(self.seed, self.index, self.stream, chunk)
        address = (self.seed, self.index, self.stream, dim, chunk)
        tags = self._workspace.tags
        row, end, done = first_row, first_row + out.shape[0], 0
        while row < end:
            block, skip = divmod(row, br)
            if skip or end - row < br:  # a cut block: whole in the tail, then its rows
                tail = self._workspace.get(
                    "draws tail", (1, 2, self._pairs), self.dtype, self.device
                )
                held = (*address, tail.data_ptr(), block)
                if tags.get("draws tail") != held:
                    tags.pop("draws tail", None)
                    self._device_blocks(sequence, address, block, 1, tail)
                    tags["draws tail"] = held
                count = min(br - skip, end - row)
                flat[done : done + count * dim].copy_(
                    tail.view(-1)[skip * dim : (skip + count) * dim]
                )
            else:  # whole blocks, to the end of the rows or of the super-block
                count = min((end - row) // br, self._step - block % self._step) * br
                region = flat[done : done + count * dim].view(count // br, 2, self._pairs)
                self._device_blocks(sequence, address, block, count // br, region)
            row, done = row + count, done + count * dim

    def _device_blocks(
        self,
        sequence: np.random.SeedSequence,
        address: tuple[int, ...],
        block: int,
        count: int,
        out: torch.Tensor,
    ) -> None:
        """Blocks ``[block, block + count)`` of one super-block of the chunk ``address``
        names into ``out`` (``(count, 2, pairs)``), drawing the super-block's uniforms
        unless ``draws uv`` holds them unconsumed (its tag)."""
        superblock, at = divmod(block, self._step)
        holds = (*address, self._uv.data_ptr(), superblock)
        tag = self._workspace.tags.get("draws uv")
        if not (isinstance(tag, tuple) and tag[0] == holds and tag[1] <= at):
            self._workspace.tags.pop("draws uv", None)
            self._device_uniforms(sequence, superblock)
        self._workspace.tags["draws uv"] = (holds, at + count)  # consumed up to there
        self._box_muller(at, count, out[:, 0], out[:, 1])

    def _keep_place(
        self, first_chunk: int, end_block: int, rng: np.random.Generator | None, partial: bool
    ) -> None:
        """Remember where numpy's source stopped, so that the next rows of the stream
        continue from there (``_continue``) instead of generating their chunk again: the
        chunk's stream read up to block ``end_block`` (counted from ``first_chunk``'s
        start), and a last, partial block whole, in ``draws tail``."""
        chunk, block = divmod(end_block, CHUNK_ROWS // self.block_rows)
        if block == 0 and not partial:  # the next rows start a chunk: nothing to keep
            self._place = None
            return
        if block == 0:  # the partial block was its chunk's last
            chunk, block = chunk - 1, CHUNK_ROWS // self.block_rows
        held = None
        if partial:
            if self._held is None:
                self._held = torch.empty(
                    self.block_rows, self.dim, dtype=self.dtype, device=self.device
                )
            tail = self._workspace.get("draws tail", (1, 2, self._pairs), self.dtype, self.device)
            self._held.view(-1).copy_(tail.view(-1))
            held = self._held
        self._place = (first_chunk + chunk, block, rng, held)

    def _continue(self, out: torch.Tensor, chunk: int, offset: int) -> bool:
        """Write ``out`` (contiguous rows from row ``offset`` of ``chunk`` on) from where
        the stream last stopped, if it stopped there (within the partial block it kept or
        at a block's start); ``False`` otherwise, writing nothing."""
        if self._place is None or self._place[0] != chunk:
            return False
        _, block, rng, held = self._place
        br = self.block_rows
        pos = 0
        if held is not None and (block - 1) * br <= offset < block * br:
            pos = min(out.shape[0], block * br - offset)
            out[:pos].copy_(held[offset - (block - 1) * br : offset - (block - 1) * br + pos])
        elif offset != block * br:
            return False
        if pos < out.shape[0]:
            if block == CHUNK_ROWS // br:  # the chunk is done: the next one from its start
                self._generate(chunk + 1, out[pos:])
            else:
                self._place = None  # rng moves on: the place is _generate's to set again
                self._generate(chunk, out[pos:], block, rng)
        return True

    def _box_muller(
        self, first: int, count: int, cos_out: torch.Tensor, sin_out: torch.Tensor
    ) -> None:
        """The pairs of ``count`` blocks of the tile's uniforms from block ``first`` on."""
        if self._host_math:  # numpy's ufuncs, then the products straight into the rows
            radius, cosine, sine = self._factors_host
            polar_factors_host(
                self._uv_host[first : first + count], radius[:count], cosine[:count], sine[:count]
            )
            radius_t, cosine_t, sine_t = self._factors
            torch.mul(cosine_t[:count], radius_t[:count], out=cos_out)
            torch.mul(sine_t[:count], radius_t[:count], out=sin_out)
        else:
            box_muller(
                self._uv[first : first + count],
                cos_out,
                sin_out,
                self._radius[:count],
                self._theta[:count],
            )

    def _device_uniforms(self, sequence: np.random.SeedSequence, superblock: int) -> torch.Tensor:
        """The uniforms of one whole super-block, from a generator seeded for it alone."""
        words = np.random.SeedSequence(
            sequence.entropy, spawn_key=(*sequence.spawn_key, superblock)
        ).generate_state(2, dtype=np.uint32)
        self._generator.manual_seed(((int(words[0]) << 32) | int(words[1])) & ((1 << 63) - 1))
        return torch.rand(
            tuple(self._uv.shape),
            generator=self._generator,
            device=self.device,
            dtype=torch.float64,
            out=self._uv,
        )

    # rows --------------------------------------------------------------------------------
    def fill(self, out: torch.Tensor, start: int) -> torch.Tensor:
        """Write rows ``[start, start + len(out))`` of the stream into ``out``."""
        if out.dtype != self.dtype or out.device != self.device or out.shape[1:] != (self.dim,):
            raise ValueError(
                f"out must be ({len(out)}, {self.dim}) {self.dtype} on {self.device}, got "
                f"{tuple(out.shape)} {out.dtype} on {out.device}"
            )
        rows = out.shape[0]
        chunk, offset = divmod(start, CHUNK_ROWS)
        if self.source != "numpy" and out.is_contiguous():
            self._generate_device(chunk, out, offset)
            return out
        if offset and out.is_contiguous() and self._continue(out, chunk, offset):
            return out
        pos = 0
        if offset or not out.is_contiguous():  # rows inside a chunk: from a whole chunk
            take = min(CHUNK_ROWS - offset, rows) if offset else min(CHUNK_ROWS, rows)
            out[:take].copy_(self._chunk(chunk)[offset : offset + take])
            pos, chunk = take, chunk + 1
            if not out.is_contiguous():
                while pos < rows:
                    take = min(CHUNK_ROWS, rows - pos)
                    out[pos : pos + take].copy_(self._chunk(chunk)[:take])
                    pos, chunk = pos + take, chunk + 1
        if pos < rows:
            self._generate(chunk, out[pos:])
        return out

    def _chunk(self, chunk: int) -> torch.Tensor:
        """A buffer holding the whole of ``chunk`` (for rows that start inside a chunk)."""
        if self._chunk_buf is None:
            self._chunk_buf = torch.empty(
                CHUNK_ROWS, self.dim, device=self.device, dtype=self.dtype
            )
        if self._chunk_id != chunk:
            self._generate(chunk, self._chunk_buf)
            self._chunk_id = chunk
        return self._chunk_buf

    def rows(self, start: int, stop: int) -> torch.Tensor:
        """Rows ``[start, stop)`` as a new tensor (convenience; the sampler uses ``fill``)."""
        out = torch.empty(stop - start, self.dim, device=self.device, dtype=self.dtype)
        return self.fill(out, start)
