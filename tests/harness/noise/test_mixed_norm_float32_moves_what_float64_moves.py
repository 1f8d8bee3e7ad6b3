"""MixedNorm's float32 (sampler) path decides which coordinates the coupling moves by
comparing |G_i| to m in float32: a coordinate just above m (the float32 number next above
it) must be moved (onto ~0, where the coupling sends the bottom of (m, m_G]) exactly as in
float64, not kept at ~m. Adversarial rows, built so that float32(m) rounds up."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.noise import MixedNorm


@pytest.mark.parametrize("k,d", [(8.0, 64), (1.5, 5)])
def test_coordinate_just_above_m_is_moved_in_float32(k, d):
    noise = MixedNorm(1.0, k, d)
    rows = []
    for m_G in np.linspace(2.0, 5.0, 400):
        g0 = torch.tensor(m_G, dtype=torch.float32)
        row = torch.zeros(1, d, dtype=torch.float64)
        row[0, 0] = g0.double()
        m = float(noise.transform(row).abs().max())
        f32 = torch.tensor(m, dtype=torch.float32)
        if f32.double() > m and f32 < g0:  # float32(m) rounds up, below m_G
            r = torch.zeros(d, dtype=torch.float32)
            r[0], r[1] = g0, f32
            rows.append(r)
    assert len(rows) >= 20
    G32 = torch.stack(rows)
    z32 = noise.transform(G32).double()
    z64 = noise.transform(G32.double())
    assert torch.allclose(z32, z64, rtol=1e-5, atol=1e-5), (z32[:, 1] - z64[:, 1]).abs().max()
