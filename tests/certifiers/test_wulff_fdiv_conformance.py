"""Every certifier of issue #4 passes the public conformance kit (``check_certifier``): abstains
at p <= 1/2, monotone, vectorized = scalar, refuses bad input, picklable, and sound against a
Monte Carlo Neyman-Pearson estimate (noises of dimension <= 16) on axis, diagonal and random
directions. Small dimensions 2..8, plus one larger noise per certifier (dim 64, where the kit
skips the Monte Carlo part)."""

from __future__ import annotations

import pytest

import certifiers
from certifiers.testing import check_certifier
from harness.noise import (
    Exp2,
    ExpInf,
    Gaussian,
    Laplace,
    Pareto,
    PowInf,
    UniformBall,
    UniformCube,
)

FAST = dict(max_examples=12, mc_samples=30_000)

WULFF_NOISES = {
    "gaussian": [Gaussian(0.5, 2), Gaussian(0.25, 64)],
    "laplace": [Laplace(0.4, 3), Laplace(0.18, 64)],
    "uniform_cube": [UniformCube(0.6, 4)],
    "uniform_ball": [UniformBall(1.0, 5)],
    "exp2": [Exp2(0.5, 1.0, 0.0, 3), Exp2(0.4, 3.0, 0.0, 6)],
    "exp_inf": [ExpInf(0.5, 1.0, 0.0, 2), ExpInf(0.5, 2.0, 0.0, 4), ExpInf(0.02, 1.0, 0.0, 64)],
    "pow_inf": [PowInf(0.5, 10.0, 7)],
    "pareto": [Pareto(0.5, 3.0, 8)],
}


@pytest.mark.parametrize("family", sorted(WULFF_NOISES))
def test_wulff_conformance(family):
    checked = check_certifier(certifiers.get("wulff"), WULFF_NOISES[family], **FAST)
    assert len(checked) == 3 * len(WULFF_NOISES[family])  # every norm, by conversion


@pytest.mark.parametrize(
    "name,noises",
    [
        ("fdiv-kl", [Gaussian(0.5, 3), Laplace(0.4, 2), Laplace(0.2, 64)]),
        ("fdiv-renyi", [Gaussian(0.5, 4), Gaussian(0.12, 64)]),
        (
            "fdiv-hockey-stick",
            [
                Gaussian(0.5, 2),
                Laplace(0.4, 3),
                UniformCube(0.5, 5),
                UniformBall(1.0, 8),
                Gaussian(0.5, 64),
            ],
        ),
    ],
)
def test_fdiv_conformance(name, noises):
    checked = check_certifier(certifiers.get(name), noises, **FAST)
    assert len(checked) == 3 * len(noises)


@pytest.mark.slow
@pytest.mark.parametrize(
    "noise",
    [
        Exp2(0.5, 0.5, 0.0, 2),
        Exp2(0.5, 2.0, 1.0, 3),
        ExpInf(0.5, 0.5, 1.0, 5),
        ExpInf(0.5, 3.0, 0.0, 8),
        PowInf(0.3, 4.5, 3),
        Pareto(0.5, 1.0, 2),
        UniformCube(0.5, 8),
        UniformBall(0.7, 2),
    ],
    ids=lambda n: n.name,
)
def test_wulff_conformance_more_noises(noise):
    check_certifier(certifiers.get("wulff"), [noise], max_examples=25, mc_samples=100_000)


def test_all_names_are_registered():
    assert {"wulff", "fdiv-kl", "fdiv-renyi", "fdiv-hockey-stick"} <= set(certifiers.available())
