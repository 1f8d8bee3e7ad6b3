"""Pareto's l1 radius through ``wulff`` is never above the exact value, at 2,000 values of
p_A spread over (1/2, 1) (near 1/2, near 1 and between), for several tail indices. The
exact value ``(s / a) (2p - 1) 2F1(1, c; 1 + c; (2p - 1)^{1/c})``, ``c = a / (a + 1)``
(the differential integral ``(s / a) integral_0^{2p-1} du / (1 - u^{1 + 1/a})``, which a few
points confirm by mpmath quadrature) is evaluated in 40-digit mpmath. scipy's
hypergeometric function and the logarithmic continuation near z = 1 are a few units in the
last place off, more than the base class's four-ulp round-down covers: the certifier's own
relative round-down is what keeps every radius at or below the exact one."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

import certifiers
from harness.noise import Pareto

WULFF = certifiers.get("wulff")


def _ps():
    rng = np.random.default_rng(1)
    ps = np.concatenate(
        [0.5 + 10.0 ** -rng.uniform(0.5, 15, 700), 1 - 10.0 ** -rng.uniform(0.5, 15, 700),
         rng.uniform(0.5, 1.0, 600)]
    )  # fmt: skip
    return ps[(ps > 0.5) & (ps < 1)]


def _exact(s, a, p):
    x = 2 * mp.mpf(p) - 1
    b = 1 + 1 / mp.mpf(a)
    return mp.mpf(s) / mp.mpf(a) * x * mp.hyp2f1(1, 1 / b, 1 + 1 / b, x**b)


@pytest.mark.parametrize("a", [0.7, 3.0, 25.0])
def test_pareto_l1_is_never_above_the_exact_radius(a):
    s = 0.6
    ps = _ps()
    got = WULFF.radius(Pareto(s, a, 4), ps, "l1")
    with mp.workdps(40):
        for p in (0.6, 0.9):  # the hypergeometric form is the integral
            integral = mp.quad(lambda u: 1 / (1 - u ** (1 + 1 / mp.mpf(a))), [0, 2 * mp.mpf(p) - 1])
            assert abs(_exact(s, a, p) - mp.mpf(s) / a * integral) < mp.mpf("1e-30")
        for p, r in zip(ps, got, strict=True):
            assert mp.mpf(r) <= _exact(s, a, p), (a, p, r)
