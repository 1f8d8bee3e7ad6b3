"""Device-side pieces of the transforms (``harness.noise.coupling``) against independent
float64 computations."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from harness.noise.batch import Batch
from harness.noise.coupling import EXPM1_FLOAT32_ULP, expm1_

LARGEST = float(np.float32(88.7))  # below float32 expm1's overflow at 88.72


def _ulps(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """``|got - exact|`` in units of the float32 spacing at ``exact``."""
    return np.abs(got.astype(np.float64) - exact) / np.spacing(exact.astype(np.float32))


@given(arrays(np.float32, st.integers(1, 300), elements=st.floats(0.0, LARGEST, width=32)))
def test_expm1_on_the_cpu_is_within_its_stated_ulps_of_the_exact_value(values):
    host = values.copy()
    a = torch.from_numpy(host)
    assert expm1_(a, host) is a
    exact = np.expm1(values.astype(np.float64))
    assert _ulps(a.numpy(), exact).max() <= 4.0  # any numpy build; here 2.62
    assert _ulps(torch.expm1(torch.from_numpy(values)).numpy(), exact).max() <= 1.0


def test_expm1_keeps_tiny_values_and_overflows_to_inf_quietly():
    values = np.concatenate([np.geomspace(1e-38, 88.0, 200_001), [0.0, 88.72, 100.0, 1e30]]).astype(
        np.float32
    )
    host = values.copy()
    a = torch.from_numpy(host)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expm1_(a, host)
    finite = values < 88.72
    exact = np.expm1(values[finite].astype(np.float64))
    assert _ulps(a.numpy()[finite], exact).max() <= EXPM1_FLOAT32_ULP
    assert np.isposinf(a.numpy()[values >= 100.0]).all()
    host = values[finite].astype(np.float64)
    b = torch.from_numpy(host)
    expm1_(b, host)  # float64 too
    np.testing.assert_allclose(b.numpy(), exact, rtol=4 * 2.0**-53, atol=0)


def test_a_host_scratch_shares_the_memory_of_the_scratch():
    """Writing through the numpy array changes the tensor, whatever the tile's rows."""
    batch = Batch(torch.zeros(10, 3))
    for rows in (10, 4, 10):
        tensor = batch.scratch("s", rows, torch.float32)
        host = batch.host_scratch("s", rows, torch.float32)
        host[...] = np.arange(rows * 3, dtype=np.float32).reshape(rows, 3)
        assert torch.equal(tensor, torch.arange(rows * 3, dtype=torch.float32).view(rows, 3))
