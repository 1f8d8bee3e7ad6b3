"""Monte Carlo class counts of a base classifier under smoothing noise.

Cohen et al. (2019), CERTIFY: ``n0`` selection draws choose the top class, ``n``
separate estimation draws count it. Counting streams batches through the model in
inference mode; memory is O(batch x d) (for small inputs, a span of several batches drawn
ahead, at most ``_SPAN_VALUES`` values), never O(n x d). All noises evaluated on one
image transform the same batch of base draws (``harness.draws``), so their outcomes are
paired, and the per-row statistics several of them need are computed once per batch
(``harness.noise.batch.Batch``).

The loop is the forward pass and little else: the draws, the noise transforms, the
arg-max, the counting and the NaN check all run on the model's device, into buffers
allocated once (``Workspace``), and nothing is read back to the host until the counts
are complete (``count_on_device``; ``tests/harness/test_sampler.py`` checks it). On a
GPU, ``SamplerOptions`` adds a bf16/fp16 autocast of the model's forward pass (never of
the noise, which stays float32), channels_last inputs, and ``auto_batch_size`` picks a
batch that fits the device's memory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from harness.draws import CHUNK_ROWS, ESTIMATION, SELECTION, DrawStream, resolve_device
from harness.noise import Noise
from harness.noise.batch import Batch, Workspace

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
_CPU_MAX_VALUES = 1 << 24  # values per CPU batch at most (64 MiB of float32 a buffer)
_SPAN_VALUES = 1 << 21  # values drawn ahead of their forward passes (8 MiB of float32)
_GPU_MEMORY_SHARE = 0.6  # of the free memory, for the batch's inputs and activations


@dataclass(frozen=True)
class SamplerOptions:
    """How the model's forward pass runs (the noise is float32 whatever these say).

    ``autocast``: ``None``, ``"bf16"`` or ``"fp16"``: the forward pass in that precision
    (``torch.autocast``); it changes the predictions, so it is part of a run's identity.
    ``channels_last``: 4-D inputs in channels-last memory order (faster convolutions on
    GPUs with tensor cores; the model is converted once by ``prepare_model``).
    ``compile``: ``torch.compile`` the model once (``prepare_model``)."""

    autocast: str | None = None
    channels_last: bool = False
    compile: bool = False

    def __post_init__(self) -> None:
        if self.autocast is not None and self.autocast not in AUTOCAST_DTYPES:
            raise ValueError(
                f"autocast must be one of {sorted(AUTOCAST_DTYPES)} or none, got {self.autocast!r}"
            )

    def manifest(self) -> dict[str, object]:
        return {
            "autocast": self.autocast or "none",
            "channels_last": self.channels_last,
            "compile": self.compile,
            "noise_dtype": "float32",
        }

    @classmethod
    def from_manifest(cls, record: Mapping[str, Any] | None) -> SamplerOptions:
        """The options a run recorded (``manifest()``; the defaults where it recorded
        none)."""
        record = record or {}
        autocast = record.get("autocast", "none")
        return cls(
            None if autocast in (None, "none") else str(autocast),
            bool(record.get("channels_last", False)),
            bool(record.get("compile", False)),
        )


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of the model's parameters (or buffers); the CPU for a stateless model."""
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return resolve_device("cpu")


def prepare_model(
    model: torch.nn.Module, options: SamplerOptions | None = None, sample_ndim: int = 3
) -> torch.nn.Module:
    """The model in eval mode, converted once as ``options`` ask (channels_last weights
    for image inputs, ``torch.compile``)."""
    options = options or SamplerOptions()
    model = model.eval()
    if options.channels_last and sample_ndim == 3:
        model = model.to(memory_format=torch.channels_last)
    if options.compile:
        model = torch.compile(model)
    return model


def auto_batch_size(
    model: torch.nn.Module,
    x: torch.Tensor,
    n: int,
    options: SamplerOptions | None = None,
    noises: Sequence[Noise] = (),
) -> int:
    """A batch size for ``model`` on inputs shaped like ``x``, aligned with the draws'
    chunks (``CHUNK_ROWS``) so that no chunk is cut. On the CPU: one chunk (1000 rows), or
    for large inputs the largest divisor of it with at most ``_CPU_MAX_VALUES`` values
    (100 rows of ImageNet). Larger CPU batches do not pay: the model's activations then
    outgrow what the allocator keeps, and every batch page-faults them back. On a GPU,
    the largest multiple of the chunk (or divisor of it) whose base draws, noisy inputs,
    model activations and noise scratch fit in ``_GPU_MEMORY_SHARE`` of the free memory
    (counting what torch's allocator keeps cached as free), less the draws' fixed
    buffers (``DrawStream.device_bytes``). The activations are measured on a probe
    batch, and so is the scratch of ``noises`` (every noise the run samples with this
    model: on a GPU each family keeps whole-batch buffers of its own, and some take
    float64 temporaries, 25 bytes per input value for the mixed l2/l-inf noise;
    ``noise_bytes_per_row``)."""
    device = model_device(model)
    dim = x.numel()
    if device.type != "cuda":
        return max(1, min(n, _chunk_divisor(max(1, _CPU_MAX_VALUES // dim))))
    probe = 64
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    inputs = torch.zeros(probe, *x.shape, device=device)
    with torch.inference_mode(), _Autocast(device, options):
        model(inputs)
    per_row = (torch.cuda.max_memory_allocated(device) - base) / probe
    del inputs
    per_row += dim * (4 + 4)  # the base draws and the noisy inputs (float32)
    per_row += 8 + 8 + 4  # each row's prediction, its count's one and its top logit
    per_row += noise_bytes_per_row(noises, dim, device, probe)
    free, _ = torch.cuda.mem_get_info(device)
    # what torch's allocator keeps cached for reuse (an earlier model's batches, the
    # probes') is free to this batch too, though the device counts it as taken
    free += torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
    budget = _GPU_MEMORY_SHARE * free - DrawStream.device_bytes(dim)
    rows = int(max(budget, 0.0) / max(per_row, 1.0))
    rows = rows - rows % CHUNK_ROWS if rows >= CHUNK_ROWS else _chunk_divisor(max(1, rows))
    return max(1, min(n, rows))


def noise_bytes_per_row(
    noises: Sequence[Noise], dim: int, device: torch.device | str, rows: int = 64
) -> float:
    """The memory per row that transforming a batch with every one of ``noises`` holds:
    the scratch buffers they keep in one workspace, as the sampler's loop keeps them (one
    per family and name), or, on a GPU, the peak the allocator saw while they ran, which
    also counts their temporaries (whichever is larger). Measured on a probe batch of
    ``rows`` rows of stand-in draws on ``device``; the noises are prepared there first."""
    device = torch.device(device)
    if not noises:
        return 0.0
    workspace = Workspace()
    G = torch.randn(rows, dim, device=device)
    noisy = torch.empty_like(G)
    x_flat = torch.zeros(dim, device=device)
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
    with torch.inference_mode():
        for noise in noises:
            noise.prepare(device)
            noise.perturb(x_flat, Batch(G, workspace), out=noisy)
    peak = torch.cuda.max_memory_allocated(device) - base if cuda else 0
    return max(peak, workspace.nbytes()) / rows


def span_batches(batch: int, dim: int, n: int) -> int:
    """Batches whose draws are made and transformed before their forward passes run one
    after another: as many as ``_SPAN_VALUES`` values hold (at least one, at most those
    ``n`` needs). On a small model (the digits MLP, d = 64) a forward pass run right
    after a batch's draws is slower than one run right after another forward pass:
    drawing ten batches ahead took 0.92x the time of drawing each before its own forward
    pass (one thread, 150 alternating rounds), and ``count_predictions`` on that MLP
    0.86-0.93x for one noise, depending on its family (with many noises, the forward
    passes of a batch already follow one another). Large inputs keep one batch per span."""
    return max(1, min(-(-n // batch), _SPAN_VALUES // max(1, batch * dim)))


def _chunk_divisor(rows: int) -> int:
    """The largest divisor of ``CHUNK_ROWS`` not above ``rows``."""
    return max(r for r in range(1, min(rows, CHUNK_ROWS) + 1) if CHUNK_ROWS % r == 0)


class _Autocast:
    """``torch.autocast`` for the forward pass when ``options`` ask for it."""

    def __init__(self, device: torch.device, options: SamplerOptions | None) -> None:
        self._ctx = None
        if options is not None and options.autocast is not None:
            self._ctx = torch.autocast(device.type, dtype=AUTOCAST_DTYPES[options.autocast])

    def __enter__(self) -> None:
        if self._ctx is not None:
            self._ctx.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._ctx is not None:
            self._ctx.__exit__(*exc)


def _validate(
    x: torch.Tensor, noises: Sequence[Noise], n: int, batch_size: int | None
) -> tuple[int, int | None]:
    n = _check_count("n", n)
    if batch_size is not None:
        batch_size = _check_count("batch_size", batch_size)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if len(noises) == 0:
        raise ValueError("at least one noise is needed")
    dim = x.numel()
    for noise in noises:
        if not isinstance(noise, Noise):
            raise TypeError(f"noises must be harness.noise.Noise, got {type(noise).__name__}")
        if noise.dim != dim:
            raise ValueError(f"{noise.name} has dim {noise.dim} but the input has {dim} entries")
    return n, batch_size


def count_on_device(
    model: torch.nn.Module,
    x: torch.Tensor,
    noises: Sequence[Noise],
    n: int,
    *,
    seed: int,
    index: int,
    stream: int,
    batch_size: int | None = 1000,
    num_classes: int | None = None,
    options: SamplerOptions | None = None,
    workspace: Workspace | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The counts of ``count_predictions`` and, per noise, how many batches failed the
    finiteness checks (``bad``, shape ``(noises, 2)``: column 0 the batches holding a
    non-finite noisy input, column 1 those where some row's largest logit is NaN or
    infinite), both as int64 tensors on the model's device, read back by nothing: the
    loop never waits on the host.

    Each check is a sum per batch, written to its own slot and tested after the loop: a
    sum is finite iff every term is (barring overflow of the sum itself, at values no
    image or logit takes), and the row maxima carry any NaN of their rows. The sums, like
    the counting, run once per span of batches (one reduction for all its batches): after
    a forward pass, the first call of any other kernel is slow (on the digits MLP, one
    thread, a sum of 1000 top logits took 37 us right after it and 6 us the second time),
    so a batch adds one operation to its forward pass, the arg-max.

    ``on_rows``, when given, is called with the number of rows after each span of them
    (every noise done; on a GPU, queued: the loop never waits for the device), for
    progress shown while an image is sampled.

    Noises are prepared (``Noise.prepare``: tables built and copied) before the loop.
    ``x`` is read as float32 whatever its dtype (a bf16/fp16 image is upcast, exactly;
    a float64 one rounded): the noise is drawn and added in float32."""
    n, batch_size = _validate(x, noises, n, batch_size)
    device = model_device(model)
    workspace = workspace if workspace is not None else Workspace()
    for noise in noises:
        noise.prepare(device)
    model.eval()
    if batch_size is None:
        batch_size = auto_batch_size(model, x, n, options, noises)
    dim = x.numel()
    dtype = torch.float32
    # from pageable host memory a non-blocking copy is staged before it returns (a blocking
    # one would wait for the device's queue to drain); from pinned memory it would not be,
    # and the caller could change x under it, so that one blocks
    staged = not x.is_pinned()
    x_flat = x.detach().to(device=device, dtype=dtype, non_blocking=staged).reshape(dim)
    batch = min(batch_size, n)
    span = batch * span_batches(batch, dim, n)
    draws = DrawStream(seed, index, stream, dim, device=device, dtype=dtype, workspace=workspace)
    G = workspace.get("sampler G", (span, dim), dtype, device)
    noisy = workspace.get("sampler noisy", (span, dim), dtype, device)
    ones = torch.ones(span, dtype=torch.int64, device=device)
    channels_last = options is not None and options.channels_last and x.ndim == 3
    autocast = _Autocast(device, options)
    counts: torch.Tensor | None = None
    top: torch.Tensor | None = None  # per span: each row's largest logit, in its dtype
    predictions = workspace.get("sampler predictions", (span,), torch.int64, device)
    classes = num_classes
    # per noise and batch: the sum of the noisy inputs, and that of the rows' top logits
    sums = torch.zeros(len(noises), -(-n // batch), 2, dtype=dtype, device=device)
    with torch.inference_mode():
        for first in range(0, n, span):
            s = min(span, n - first)
            k = first // batch
            draws.fill(G[:s], first)
            rows = Batch(G[:s], workspace)
            for i, noise in enumerate(noises):
                try:
                    noise.perturb(x_flat, rows, out=noisy[:s])
                except RuntimeError as err:
                    if "overflow" not in str(err):  # not ours to name: out of memory, ...
                        raise
                    # torch's "value cannot be converted to type float without overflow":
                    # a scale that float32 cannot hold
                    raise ValueError(
                        f"{noise.name} cannot be added in float32 (non-finite noisy inputs): {err}"
                    ) from err
                _sum_per_batch(noisy[:s], batch, sums[i, k:, 0])
                for start in range(0, s, batch):
                    b = min(batch, s - start)
                    inputs = noisy[start : start + b].view(b, *x.shape)
                    if channels_last:  # into a reused buffer of that layout (NHWC)
                        c, h, w = x.shape
                        nhwc = workspace.get("sampler channels_last", (b, h, w, c), dtype, device)
                        inputs = nhwc.permute(0, 3, 1, 2).copy_(inputs)
                    with autocast:
                        logits = _forward(model, inputs)
                    dtype_so_far = None if top is None else top.dtype
                    classes = _check_logits(model, logits, b, classes, dtype_so_far)
                    if counts is None:
                        counts = torch.zeros(len(noises), classes, dtype=torch.int64, device=device)
                    if top is None:  # in the logits' dtype: bf16 under autocast
                        top = workspace.get("sampler top", (span,), logits.dtype, device)
                    # the one operation a batch adds to its forward pass; the rest is per span
                    torch.max(
                        logits, dim=1, out=(top[start : start + b], predictions[start : start + b])
                    )
                _sum_per_batch(top[:s], batch, sums[i, k:, 1])
                # index_add_, not bincount: bincount waits for the host on a GPU
                counts[i].index_add_(0, predictions[:s], ones[:s])
            if on_rows is not None:
                on_rows(s)
    assert counts is not None
    return counts, torch.isfinite(sums).logical_not_().sum(dim=1)


def _sum_per_batch(values: torch.Tensor, batch: int, out: torch.Tensor) -> None:
    """The sums of ``values`` (a span of rows) over each batch of ``batch`` rows, into
    ``out[0]``, ``out[1]``, ...: one reduction for the whole batches and one for a last,
    partial one."""
    full, rest = divmod(values.shape[0], batch)
    if full:
        torch.sum(values[: full * batch].view(full, -1), dim=1, dtype=out.dtype, out=out[:full])
    if rest:
        partial = values[full * batch :].view(1, -1)
        torch.sum(partial, dim=1, dtype=out.dtype, out=out[full : full + 1])


def _model_name(model: torch.nn.Module) -> str:
    return type(getattr(model, "_orig_mod", model)).__name__


def _check_logits(
    model: torch.nn.Module,
    logits: torch.Tensor,
    rows: int,
    classes: int | None,
    dtype: torch.dtype | None = None,
) -> int:
    """One floating-point logit row per input, at least two classes, as many in every
    batch (and as ``classes`` when given), of one dtype in every batch (``dtype``, when
    given); returns the number of classes. Shapes and dtypes only: nothing is read from
    the device, and the model's name is looked up only for an error."""
    problem = None
    if not logits.dtype.is_floating_point:
        problem = (
            f"returned logits of dtype {logits.dtype}; the sampler takes the arg max of "
            "floating-point logits (not bool, integer or complex)"
        )
    elif logits.shape[0] != rows:
        problem = (
            f"returned {logits.shape[0]} logit rows for {rows} inputs; it must return one "
            "row per input"
        )
    elif logits.shape[1] < 2:
        problem = (
            f"returned {logits.shape[1]} logit(s) per input; a classifier needs at least 2 classes"
        )
    elif classes is not None and logits.shape[1] != classes:
        problem = f"returned {logits.shape[1]} logits, expected {classes}"
    elif dtype is not None and logits.dtype != dtype:
        problem = f"returned logits of dtype {logits.dtype} after logits of dtype {dtype}"
    if problem is not None:
        raise ValueError(f"model {_model_name(model)} {problem}")
    return int(logits.shape[1])


def count_predictions(
    model: torch.nn.Module,
    x: torch.Tensor,
    noises: Sequence[Noise],
    n: int,
    *,
    seed: int,
    index: int,
    stream: int,
    batch_size: int | None = 1000,
    num_classes: int | None = None,
    options: SamplerOptions | None = None,
    workspace: Workspace | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Predicted-class counts of ``model`` on ``x + z`` for each noise; shape (noises, classes).

    Every noise transforms the same base draws of stream ``(seed, index, stream)``.
    The model runs on its own device (that of its parameters; the CPU for a
    parameter-free model) and is put in eval mode. ``batch_size=None`` chooses one
    (``auto_batch_size``); the draws do not depend on it (the model's float rounding
    can, with the batch's shape: a draw whose top two logits tie within it may change
    class: one of 1.6 million draws on the digits MLP, batch 8 against 1000).
    ``workspace`` keeps buffers across calls (the runner passes one per model);
    ``on_rows`` is told the rows done after each span (``count_on_device``)."""
    counts, bad_batches = count_on_device(
        model,
        x,
        noises,
        n,
        seed=seed,
        index=index,
        stream=stream,
        batch_size=batch_size,
        num_classes=num_classes,
        options=options,
        workspace=workspace,
        on_rows=on_rows,
    )
    bad = bad_batches.cpu().numpy()
    for i, noise in enumerate(noises):
        if bad[i, 0]:
            raise ValueError(
                f"noisy inputs under {noise.name} (image {index}) were non-finite in "
                f"{bad[i, 0]} batch(es) of its {n} draws: the noise gave NaN or values "
                "beyond float32 (a transform's bug, or a scale float32 cannot hold)"
            )
        if bad[i, 1]:
            raise ValueError(
                f"the model returned NaN or infinite logits under {noise.name} (image "
                f"{index}) in {bad[i, 1]} batch(es) of its {n} draws: every row's largest "
                "logit must be finite"
            )
    out = counts.cpu().numpy()
    totals = out.sum(axis=1)
    if (totals != n).any():
        raise ValueError(
            f"the counts of image {index} total {totals.tolist()}, not n = {n}: a sampler "
            "bug; the counts are not returned"
        )
    return out


def _forward(model: torch.nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    try:
        logits = model(inputs)
    except (RuntimeError, ValueError) as err:
        raise ValueError(
            f"the model rejected inputs of shape {tuple(inputs.shape)} "
            f"(one input of shape {tuple(inputs.shape[1:])} per row): {err}"
        ) from err
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(
            f"model {_model_name(model)} must return logits of shape (batch, num_classes), "
            f"got {got}"
        )
    return logits


def sample_counts(
    model: torch.nn.Module,
    x: torch.Tensor,
    noise: Noise,
    n: int,
    *,
    seed: int,
    index: int,
    stream: int,
    batch_size: int | None = 1000,
    options: SamplerOptions | None = None,
) -> np.ndarray:
    """The model's predicted-class counts over ``n`` noisy copies of one input ``x``.

    Returns a numpy int64 array of shape (num_classes,). ``x`` has the shape the model
    takes for one input; the batch is built inside. The draws are those of stream
    ``(seed, index, stream)``: ``index`` (the image's number) and ``stream``
    (``harness.draws.SELECTION`` or ``ESTIMATION``) are required, since two calls with the
    same address return the same counts, which must never serve both to select a class
    and to estimate its probability (``certify_counts`` does both, on separate streams).
    """
    return count_predictions(
        model,
        x,
        [noise],
        n,
        seed=seed,
        index=index,
        stream=stream,
        batch_size=batch_size,
        options=options,
    )[0]


@dataclass(frozen=True)
class CertifyCounts:
    """Selection counts (n0 draws) and estimation counts (n draws), one row per noise."""

    selection: np.ndarray
    estimation: np.ndarray


def certify_counts(
    model: torch.nn.Module,
    x: torch.Tensor,
    noises: Sequence[Noise],
    n0: int,
    n: int,
    *,
    seed: int,
    index: int,
    batch_size: int | None = 1000,
    options: SamplerOptions | None = None,
    workspace: Workspace | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> CertifyCounts:
    """Cohen et al.'s CERTIFY sampling: selection and estimation counts on separate streams
    (``on_rows`` is told the rows of both as they are done: ``n0 + n`` in all)."""
    _check_count("n0", n0)
    workspace = workspace if workspace is not None else Workspace()
    common = {
        "seed": seed,
        "index": index,
        "options": options,
        "workspace": workspace,
        "on_rows": on_rows,
    }
    selection = count_predictions(
        model, x, noises, n0, stream=SELECTION, batch_size=batch_size, **common
    )
    estimation = count_predictions(
        model,
        x,
        noises,
        n,
        stream=ESTIMATION,
        batch_size=batch_size,
        num_classes=selection.shape[1],
        **common,
    )
    return CertifyCounts(selection=selection, estimation=estimation)
