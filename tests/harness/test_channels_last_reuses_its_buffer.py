"""``channels_last`` copies each batch's noisy inputs into one reused buffer of that layout
(it made a new ``(b, C, H, W)`` tensor a batch and noise), and counts as without it."""

from __future__ import annotations

from collections import Counter

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from harness.draws import ESTIMATION
from harness.noise import Gaussian, Laplace
from harness.noise.batch import Workspace
from harness.sampler import SamplerOptions, count_on_device, prepare_model

C, H, B = 3, 16, 100


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
