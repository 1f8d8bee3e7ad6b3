"""The mixed l2/l-inf noise's dense path (a GPU's) maps a batch in buffers it keeps: it
made about ten new (rows, dim) tensors a batch (float64 erfc, ndtri, two where and their
boolean masks), some 66 bytes a value beyond its scratch. What it writes is what the
CPU's gathering path writes, to float32 rounding (bit for bit what it wrote before)."""

from __future__ import annotations

import torch

from harness.noise import MixedNorm
from harness.noise.batch import Batch, Workspace
from tests.harness._gpu_paths import FreshTensors, gpu_paths

ROWS, DIM = 200, 3072


def _perturbed(noise, G, workspace, x, out=None):
    out = torch.empty_like(G, dtype=torch.float32) if out is None else out
    return noise.perturb(x, Batch(G, workspace), out=out)


def test_the_dense_path_allocates_nothing_a_batch_and_writes_what_gathering_writes(
    monkeypatch,
):
    noise = MixedNorm.matched(0.5, DIM, k=1.5)
    G = torch.randn(ROWS, DIM, generator=torch.Generator().manual_seed(3), dtype=torch.float32)
    x = torch.rand(DIM, generator=torch.Generator().manual_seed(5))
    gathered = _perturbed(noise, G.clone(), Workspace(), x)
    gpu_paths(monkeypatch)
    workspace = Workspace()
    _perturbed(noise, G.clone(), workspace, x)  # its buffers, once
    again, dense = G.clone(), torch.empty_like(G)
    with FreshTensors(ROWS * DIM // 2) as log:
        _perturbed(noise, again, workspace, x, out=dense)
    assert not log.fresh, log.fresh
    # the two paths' float64 math (torch's, numpy's) may differ in a last bit of float32
    spacing = 2 * torch.finfo(torch.float32).eps * gathered.abs().clamp_min(1.0)
    assert bool(((dense - gathered).abs() <= spacing).all())
