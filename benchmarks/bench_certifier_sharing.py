"""(2) K certifiers on one noise cost one sampling pass: certifiers work on the stored
counts, so each added certifier costs its radius computation only.

For Gaussian noise on the digits MLP, one image: sampling (n0 = 100, n = 10,000, the
counts every certifier shares), then the CERTIFY rule and the radius of 1 certifier
(``cohen``) and of all K registered certifiers that support the noise, in three norms.
The summary gives the time per image with 1 and with K certifiers and their ratio.
One torch thread, CPU time of this thread.

    pytest benchmarks/bench_certifier_sharing.py -o python_files='bench_*.py'
"""

from __future__ import annotations

import time

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
NOISE = Gaussian(0.25, 64)
SUPPORTING = [
    name
    for name in certifiers.available()
    if any(certifiers.get(name).supports(NOISE, norm) for norm in certifiers.NORMS)
]


def _certify(names: list[str], counts) -> None:
    outcome = certify_top_class(counts.selection[0], counts.estimation[0], 0.001)
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
    counts = certify_counts(model, x, [NOISE], 100, 10_000, seed=0, index=1, workspace=workspace)
    _certify(SUPPORTING, counts)  # tables built outside the timing
    work = {
        "sampling": lambda: certify_counts(
            model, x, [NOISE], 100, 10_000, seed=0, index=1, workspace=workspace
        ),
        "1": lambda: _certify(["cohen"], counts),
        "K": lambda: _certify(SUPPORTING, counts),
    }[k]
    times: list[float] = []

    def timed() -> None:
        start = time.thread_time()
        work()
        times.append(time.thread_time() - start)

    benchmark.group = "certifier-sharing"
    benchmark.pedantic(timed, rounds=7, warmup_rounds=1, iterations=1)
    RESULTS[k] = float(np.median(times))
    if set(RESULTS) == {"sampling", "1", "K"}:
        one = RESULTS["sampling"] + RESULTS["1"]
        many = RESULTS["sampling"] + RESULTS["K"]
        SUMMARY.append(
            f"certifier sharing (Gaussian, digits MLP, n = 10,000): sampling "
            f"{RESULTS['sampling'] * 1e3:.1f} ms/img; 1 certifier {one * 1e3:.1f} ms/img, "
            f"K = {len(SUPPORTING)} certifiers ({', '.join(SUPPORTING)}) {many * 1e3:.1f} "
            f"ms/img: {many / one:.3f}x"
        )
