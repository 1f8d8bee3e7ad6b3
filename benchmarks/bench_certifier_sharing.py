"""(2) K certifiers on one noise cost one sampling pass: certifiers work on the stored
counts, so each added certifier costs its radius computation only.

For Gaussian noise on the digits MLP: sampling one image (n0 = 100, n = 10,000; the
counts every certifier shares, whatever K), then, as the runner does, the CERTIFY rule
and the radii of 200 images' counts at once, with 1 certifier (``cohen``) and with all K
registered certifiers that support the noise, in three norms. The summary gives the time
per image with 1 and with K certifiers. One torch thread, CPU time of this thread.

    pytest benchmarks/bench_certifier_sharing.py -o python_files='bench_*.py'
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import certifiers
from baselines.architectures import DigitsMLP
from benchmarks.conftest import SUMMARY
from certifiers.bounds import certify_top_class
from harness.noise import Gaussian
from harness.noise.batch import Workspace
from harness.sampler import certify_counts

RESULTS: dict[str, float] = {}
IMAGES = 200


@dataclass(frozen=True)
class Counts:
    selection: np.ndarray
    estimation: np.ndarray


NOISE = Gaussian(0.25, 64)
SUPPORTING = [
    name
    for name in certifiers.available()
    if any(certifiers.get(name).supports(NOISE, norm) for norm in certifiers.NORMS)
]


def _certify(names: list[str], counts) -> None:
    outcome = certify_top_class(counts.selection, counts.estimation, 0.001)
    for name in names:
        c = certifiers.get(name)
        for norm in certifiers.NORMS:
            if c.supports(NOISE, norm):
                c.radius(NOISE, outcome.p_lower, norm)


@pytest.fixture(scope="module")
def image():
    torch.manual_seed(0)
    model = DigitsMLP().eval()
    x = torch.rand(1, 8, 8, generator=torch.Generator().manual_seed(2))
    return model, x


@pytest.mark.parametrize("k", ["sampling", "1", "K"])
def test_certifiers_share_one_sampling_pass(benchmark, one_thread, image, k):
    model, x = image
    workspace = Workspace()
    certify_counts(model, x, [NOISE], 100, 10_000, seed=0, index=1, workspace=workspace)  # warm
    # 200 images' counts: top-class probabilities mostly high, some not (as on digits)
    rng = np.random.default_rng(0)
    top = rng.beta(5.0, 1.0, IMAGES)
    probs = np.column_stack([top, np.tile((1 - top)[:, None] / 9, (1, 9))])
    many = Counts(
        np.stack([rng.multinomial(100, p) for p in probs]),
        np.stack([rng.multinomial(10_000, p) for p in probs]),
    )
    _certify(SUPPORTING, many)  # tables built outside the timing
    work = {
        "sampling": lambda: certify_counts(
            model, x, [NOISE], 100, 10_000, seed=0, index=1, workspace=workspace
        ),
        "1": lambda: _certify(["cohen"], many),
        "K": lambda: _certify(SUPPORTING, many),
    }[k]
    times: list[float] = []

    def timed() -> None:
        start = time.thread_time()
        work()
        times.append(time.thread_time() - start)

    benchmark.group = "certifier-sharing"
    benchmark.pedantic(timed, rounds=7, warmup_rounds=1, iterations=1)
    RESULTS[k] = float(np.median(times)) / (1 if k == "sampling" else IMAGES)
    if set(RESULTS) == {"sampling", "1", "K"}:
        one = RESULTS["sampling"] + RESULTS["1"]
        all_k = RESULTS["sampling"] + RESULTS["K"]
        SUMMARY.append(
            f"certifier sharing (Gaussian, digits MLP, n = 10,000): sampling "
            f"{RESULTS['sampling'] * 1e3:.1f} ms/img, once for any K; certifying "
            f"{RESULTS['1'] * 1e6:.0f} us/img with 1 certifier, {RESULTS['K'] * 1e6:.0f} "
            f"us/img with K = {len(SUPPORTING)} ({', '.join(SUPPORTING)}): "
            f"{all_k / one:.3f}x the time per image"
        )
