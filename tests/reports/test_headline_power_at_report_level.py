"""The headline's power statement holds at the report's level (``report.level``), as its
verdict does: the images it names give each test 80% power at that level. References are
computed here by enumeration, independently of ``reports.stats``: the exact power of the
two-sided exact McNemar test, and of the pooled two-proportion z-test."""

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from reports.headline import compare_rows
from reports.rows import Row

IMAGES = 400


def exact_mcnemar_power(n: int, p10: float, p01: float, alpha: float) -> float:
    """Sum over D ~ Bin(n, p10 + p01) discordant images and n10 | D ~ Bin(D, q) of the
    rejections of the exact test (p = min(1, 2 P(Bin(D, 1/2) <= min(n10, D - n10))))."""
    pd = p10 + p01
    total = 0.0
    weights = sps.binom.pmf(np.arange(n + 1), n, pd)
    for d in np.flatnonzero(weights > 1e-15):
        b = np.arange(d + 1)
        p = np.minimum(1.0, 2 * sps.binom.cdf(np.minimum(b, d - b), d, 0.5))
        total += weights[d] * sps.binom.pmf(b, d, p10 / pd)[p <= alpha].sum()
    return float(total)


def pooled_ztest_power(n: int, p1: float, p2: float, alpha: float) -> float:
    """All (k1, k2) of two Bin(n, p) counts; z = (k1 - k2) / sqrt(pbar (1 - pbar) 2 n),
    rejected where |z| exceeds the normal quantile (no rejection where pbar is 0 or 1)."""
    k = np.arange(n + 1)
    k1, k2 = k[:, None], k[None, :]
    pbar = (k1 + k2) / (2 * n)
    se = np.sqrt(pbar * (1 - pbar) * 2 * n)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (k1 - k2) / se, 0.0)
    reject = np.abs(z) > sps.norm.ppf(1 - alpha / 2)
    mass = np.outer(sps.binom.pmf(k, n, p1), sps.binom.pmf(k, n, p2))
    return float(mass[reject].sum())


def _row(name: str, certified: np.ndarray) -> Row:
    n = certified.size
    return Row(
        "m", name, (name,), "gaussian", name, np.arange(n), np.where(certified, 1.0, 0.0),
        certified.copy(), ~certified, np.full(n, 0.9), 0.0, 0.0,
    )  # fmt: skip


@settings(max_examples=4, deadline=None)
@given(
    level=st.sampled_from([0.01, 0.001, 0.1]),
    n10=st.integers(24, 40),
    n01=st.integers(0, 8),
)
def test_the_images_the_headline_names_give_80_percent_power_at_its_level(level, n10, n01):
    x = np.zeros(IMAGES, bool)
    y = np.zeros(IMAGES, bool)
    x[:n10] = True
    y[n10 : n10 + n01] = True
    x[200:300] = y[200:300] = True  # images both rows certify
    board = SimpleNamespace(title="t", radii=[0.0], draws=1000, alpha=0.001)
    h = compare_rows(board, _row("a", x), _row("b", y), "", level=level)
    assert h.n_paired_needed is not None and h.n_unpaired_needed is not None
    paired = exact_mcnemar_power(h.n_paired_needed, n10 / IMAGES, n01 / IMAGES, level)
    assert paired >= 0.8, (
        f"the headline names {h.n_paired_needed} paired images for 80% power at {level}; "
        f"the exact McNemar power there is {paired:.3f}"
    )
    v, ov = x.mean(), y.mean()
    unpaired = pooled_ztest_power(h.n_unpaired_needed, v, ov, level)
    assert unpaired >= 0.8, (
        f"the headline names {h.n_unpaired_needed} images per arm for 80% power at "
        f"{level}; the pooled z-test's power there is {unpaired:.3f}"
    )
    (power_line,) = [text for label, text in h.lines() if label == "Power"]
    assert f"80% power at {level:g}" in power_line
