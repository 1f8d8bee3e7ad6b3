"""The sampler's GPU paths, run on the CPU (``tests.harness._gpu_paths``): no operation in
the loop waits for the host on CUDA, the noise never runs under the forward pass's
autocast, and the batch ``auto_batch_size`` chooses on a GPU (its memory calls mocked)
leaves room for the scratch the noises keep there."""

from __future__ import annotations

import pytest
import torch

import harness.sampler as sampler
from harness.draws import ESTIMATION, DrawStream
from harness.noise import noise_class, noise_families
from harness.noise.base import Noise
from harness.noise.batch import Workspace
from harness.sampler import SamplerOptions, count_on_device, prepare_model
from tests.harness._gpu_paths import OpLog, gpu_paths

DIM = 192


def every_example_noise(dim: int) -> list[Noise]:
    return [noise for family in noise_families() for noise in noise_class(family).examples(dim)]


@pytest.mark.parametrize("options", [None, SamplerOptions(autocast="bf16", channels_last=True)])
def test_the_gpu_paths_reach_no_operation_that_waits_for_the_host(monkeypatch, options):
    gpu_paths(monkeypatch)
    noises = every_example_noise(DIM)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.Linear(144, 10)
    )
    model = prepare_model(net, options, 3)
    x = torch.rand(3, 8, 8)
    workspace = Workspace()
    count_on_device(model, x, noises, 10, seed=1, index=2, stream=ESTIMATION, batch_size=700,
                    workspace=workspace, options=options)  # fmt: skip
    for noise in noises:
        perturb = type(noise).perturb

        def outside_autocast(self, *args, _perturb=perturb, **kwargs):
            assert not torch.is_autocast_enabled("cpu"), "the noise ran under autocast"
            return _perturb(self, *args, **kwargs)

        monkeypatch.setattr(type(noise), "perturb", outside_autocast)
    with OpLog() as log:
        counts, bad = count_on_device(model, x, noises, 2500, seed=1, index=3,
                                      stream=ESTIMATION, batch_size=700, workspace=workspace,
                                      options=options)  # fmt: skip
    assert log.syncing() == {}
    assert log.ops["aten::linear"] > 0 and log.ops["aten::index_add_"] > 0  # it saw the loop
    assert int(counts.sum()) == 2500 * len(noises) and int(bad.sum()) == 0


def _mock_cuda(monkeypatch, free_bytes: int) -> None:
    """A CUDA device with ``free_bytes`` free, on which a model's activations take no
    memory (the case where the noise scratch weighs most), run on the CPU."""
    cuda = torch.device("cuda", 0)
    monkeypatch.setattr(sampler, "model_device", lambda model: cuda)
    for name in ("synchronize", "reset_peak_memory_stats"):
        monkeypatch.setattr(torch.cuda, name, lambda *a, **k: None)
    for name in ("memory_allocated", "max_memory_allocated", "memory_reserved"):
        monkeypatch.setattr(torch.cuda, name, lambda *a, **k: 0)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda *a, **k: (free_bytes, free_bytes))
    zeros = torch.zeros
    monkeypatch.setattr(torch, "zeros", lambda *shape, device=None, **k: zeros(*shape, **k))
    measure = sampler.noise_bytes_per_row
    monkeypatch.setattr(
        sampler,
        "noise_bytes_per_row",
        lambda noises, dim, device, rows=64: measure(noises, dim, "cpu", rows),
    )


@pytest.mark.parametrize("families", [None, ("gaussian",), ("mixed_norm",)])
def test_the_batch_chosen_on_a_gpu_holds_the_noises_scratch(monkeypatch, families):
    gpu_paths(monkeypatch)
    noises = [n for n in every_example_noise(DIM) if families is None or n.family in families]
    x = torch.rand(3, 8, 8)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(DIM, 10))
    free = 600 * 2**20
    with monkeypatch.context() as cuda:
        _mock_cuda(cuda, free)
        rows = sampler.auto_batch_size(model, x, 10**6, None, noises)
    assert rows >= 1000  # room for several chunks: the test below measures something
    workspace = Workspace()
    count_on_device(model, x, noises, rows, seed=0, index=0, stream=ESTIMATION,
                    batch_size=rows, workspace=workspace)  # fmt: skip
    held = workspace.nbytes()  # the draws', the sampler's and the noises' buffers
    assert held <= 0.6 * free, (
        f"{held / 2**20:.1f} MiB held by the loop at {rows} rows, for a batch chosen to fit "
        f"60% of {free / 2**20:.0f} MiB"
    )


def test_the_draws_fixed_buffers_are_bounded_as_stated():
    for dim in (64, 3072, 150_528):
        workspace = Workspace()
        stream = DrawStream(0, 0, ESTIMATION, dim, workspace=workspace, source="torch")
        stream.fill(torch.empty(1500, dim), 0)  # a whole chunk, then part of one
        stream.fill(torch.empty(300, dim), 1200)  # rows that start inside a chunk
        chunk = stream._chunk_buf
        held = workspace.nbytes() + (
            chunk.numel() * chunk.element_size() if chunk is not None else 0
        )
        assert held <= DrawStream.device_bytes(dim), dim


def test_memory_the_allocator_keeps_cached_counts_as_free(monkeypatch):
    """An earlier model's batches stay in torch's cache, which the device reports as
    taken: the batch of the next model may use it."""
    x = torch.rand(3, 8, 8)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(DIM, 10))
    chosen = []
    for cached in (0, 600 * 2**20):
        with monkeypatch.context() as cuda:
            _mock_cuda(cuda, 100 * 2**20)
            cuda.setattr(torch.cuda, "memory_reserved", lambda *a, _c=cached, **k: _c)
            chosen.append(sampler.auto_batch_size(model, x, 10**7, None, []))
    want = int((0.6 * 700 * 2**20 - DrawStream.device_bytes(DIM)) / (8 * DIM + 20))
    assert chosen[1] == want - want % 1000 and chosen[1] > 5 * chosen[0]
