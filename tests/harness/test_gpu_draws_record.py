"""The GPU draws: each chunk's uniforms from a super-block no larger than the chunk (the
first version drew 4,194,304 for every chunk, 65 times what a chunk needs at d = 64), and
the grid of torch's random kernels, which decides the values a seed gives on a GPU,
recorded for each session with the float32 precision of the forward pass."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from harness import provenance
from harness.draws import CHUNK_ROWS, DEVICE_SOURCE, DrawStream, draw_method, philox_grid


def uniforms_drawn(monkeypatch, dim: int, rows: int, batch: int | None = None) -> list[int]:
    """The uniforms of each super-block the torch source draws for ``rows`` rows, filled in
    batches of ``batch`` rows one after the other (all at once when ``None``)."""
    drawn = []
    real = DrawStream._device_uniforms

    def counting(self, sequence, superblock):
        out = real(self, sequence, superblock)
        drawn.append(out.numel())
        return out

    monkeypatch.setattr(DrawStream, "_device_uniforms", counting)
    stream = DrawStream(0, 0, 1, dim, source="torch")
    batch = batch or rows
    out = torch.empty(batch, dim)
    for first in range(0, rows, batch):
        stream.fill(out[: min(batch, rows - first)], first)
    return drawn


@pytest.mark.parametrize("dim", [64, 784, 3072, 5000])
def test_a_chunk_draws_about_the_uniforms_it_needs(monkeypatch, dim):
    needed = 2 * CHUNK_ROWS * dim  # one uniform a value (two a pair), two chunks
    assert needed <= sum(uniforms_drawn(monkeypatch, dim, 2 * CHUNK_ROWS)) <= 1.01 * needed


@pytest.mark.parametrize("dim", [64, 3072, 8192])
@pytest.mark.parametrize("batch", [300, 500, 1300])
def test_batches_that_cut_chunks_draw_each_uniform_once(monkeypatch, dim, batch):
    """The sampler's batches on a GPU need not divide a chunk (``auto_batch_size`` picks
    500 where fewer than 1,000 rows fit): a batch that starts inside a chunk continues
    from the uniforms the one before left unconsumed. Each batch drew its chunk whole
    again before: twice the uniforms at d = 64 and 3072, 1.5 times at 150,528."""
    needed = 3 * CHUNK_ROWS * dim
    assert needed <= sum(uniforms_drawn(monkeypatch, dim, 3 * CHUNK_ROWS, batch)) <= 1.01 * needed


def test_a_prefix_of_a_chunk_is_the_start_of_the_whole_chunk():
    whole, prefix = torch.empty(CHUNK_ROWS, 64), torch.empty(7, 64)
    DrawStream(0, 5, 1, 64, source="torch").fill(whole, 0)
    DrawStream(0, 5, 1, 64, source="torch").fill(prefix, 0)
    assert torch.equal(prefix, whole[:7])


def test_the_torch_kernels_grid_depends_on_the_multiprocessors():
    """The premise of ``philox_grid``, in the torch installed."""
    header = Path(torch.__file__).parent / "include/ATen/native/cuda/DistributionTemplates.h"
    if not header.is_file():
        pytest.skip("this torch ships no ATen headers")
    text = header.read_text()
    policy = text[text.index("calc_execution_policy(") :][:900]
    assert "multiProcessorCount" in policy and "maxThreadsPerMultiProcessor" in policy


def _mock_gpu(monkeypatch, sms: int, threads: int) -> None:
    props = SimpleNamespace(multi_processor_count=sms, max_threads_per_multi_processor=threads)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda *a, **k: props)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a, **k: f"gpu with {sms} SMs")


def test_the_grid_and_the_precision_are_recorded_for_a_gpu_session(monkeypatch):
    assert philox_grid("cpu") is None
    assert "cpu" not in draw_method("cuda") and draw_method("cuda").endswith(DEVICE_SOURCE)
    records = []
    for sms, threads in ((132, 2048), (108, 2048), (58, 1536)):
        with monkeypatch.context() as m:
            _mock_gpu(m, sms, threads)
            assert philox_grid("cuda") == sms * (threads // 256)
            records.append(provenance.provenance(torch.device("cuda")))
    assert [r["philox_grid"] for r in records] == [1056, 864, 348]
    conv = str(torch.backends.cudnn.conv.fp32_precision)
    assert records[0]["fp32_precision"] == {
        "conv": conv, "matmul": str(torch.backends.cuda.matmul.fp32_precision)
    }  # fmt: skip
    assert "philox_grid" not in provenance.provenance(torch.device("cpu"))


def test_the_precision_is_read_on_a_torch_without_the_fp32_precision_switches(monkeypatch):
    """torch before 2.9 (the floor is 2.4) has only ``allow_tf32``: taken away here."""
    monkeypatch.delattr(type(torch.backends.cudnn), "conv")
    matmul = type(torch.backends.cuda.matmul)
    real = matmul.__getattr__

    def older(self, name):
        if name == "fp32_precision":
            raise AttributeError(name)
        return real(self, name)

    monkeypatch.setattr(matmul, "__getattr__", older)
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    assert provenance.fp32_precision()["conv"] == "tf32"
    assert provenance.fp32_precision()["matmul"] in ("tf32", "ieee")


@pytest.mark.parametrize("dim", [64, 784, 3072, 150_528])
def test_the_blocks_a_super_block_takes_are_its_uniforms_over_256_at_most_the_cap(monkeypatch, dim):
    """Checked against the uniforms one super-block of the torch source draws."""
    from harness.draws import philox_blocks

    (uniforms,) = uniforms_drawn(monkeypatch, dim, 1)
    for cap in (348, 1056, 10**6):
        assert philox_blocks(cap, dim) == min(cap, -(-uniforms // 256))


def test_a_driver_without_the_gpu_records_no_grid_of_its_own(monkeypatch):
    """A Ray driver may run a CUDA run with no GPU of its own: its actors record theirs."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    record = provenance.provenance(torch.device("cuda"))
    assert "philox_grid" not in record and "fp32_precision" not in record
