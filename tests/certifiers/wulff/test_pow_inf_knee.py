"""PowInf's l1 radius (and the l2 one converted from it) does not drop where the linear
closed form ``R = 2 d s (p - 1/2) / (a - d)`` hands over to the differential table at
``p = 1 - 1/(2d)``: the closed form's value at the knee is certified there, so at every
larger p. (The table alone starts a little below it: the radius fell by 0.08% just past
the knee.)"""

from __future__ import annotations

import numpy as np
import pytest

import certifiers
from harness.noise import noise_class


@pytest.mark.parametrize("dim", [3, 64])
@pytest.mark.parametrize("norm", ["l1", "l2"])
def test_no_drop_past_the_knee(dim, norm):
    wulff = certifiers.get("wulff")
    for noise in noise_class("pow_inf").examples(dim):
        knee = 1.0 - 0.5 / dim
        p = np.linspace(knee - 0.01, min(1.0 - 1e-9, knee + 0.01), 4001)
        r = np.asarray(wulff.radius(noise, p, norm=norm))
        assert (np.diff(r) >= -1e-12 * r[1:]).all(), noise.name
        if norm == "l1":  # past the knee, at least the closed form's value there, by hand
            at_knee = 2 * dim * noise.scale * (knee - 0.5) / (noise.a - dim)
            assert (r[p > knee] >= at_knee * (1 - 1e-9)).all()  # rounded down a little
