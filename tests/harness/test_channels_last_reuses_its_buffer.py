"""``channels_last`` copies each batch's noisy inputs into one reused buffer of that layout
(it made a new ``(b, C, H, W)`` tensor a batch and noise), and counts as without it."""

from __future__ import annotations

from collections import Counter

import torch

from harness.draws import ESTIMATION
from harness.noise import Gaussian, Laplace
from harness.noise.batch import Workspace
from harness.sampler import SamplerOptions, count_on_device, prepare_model
from tests.harness._gpu_paths import FreshTensors

C, H, B = 3, 16, 100


def _run(options: SamplerOptions | None) -> tuple[torch.Tensor, Counter[str]]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(C, 10, H), torch.nn.Flatten())
    model = prepare_model(model, options, sample_ndim=3)
    x = torch.rand(C, H, H)
    noises = [Gaussian(0.5, C * H * H), Laplace(0.3, C * H * H)]
    call = {"seed": 1, "stream": ESTIMATION, "batch_size": B, "workspace": Workspace(),
            "options": options, "n": 6 * B}  # fmt: skip
    count_on_device(model, x, noises, index=2, **call)  # buffers, tables: the same n
    with FreshTensors(B * C * H * H // 2) as log:
        counts, bad = count_on_device(model, x, noises, index=3, **call)
    assert int(bad.sum()) == 0
    return counts, log.fresh


def test_channels_last_allocates_nothing_a_batch_and_counts_the_same():
    plain, fresh_plain = _run(None)
    laid_out, fresh_laid_out = _run(SamplerOptions(channels_last=True))
    assert torch.equal(plain, laid_out)
    assert fresh_laid_out == fresh_plain, (fresh_laid_out, fresh_plain)
