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
from harness.noise.coupling import EXPM1_FLOAT32_ULP, LOG_FLOAT32_ULP, expm1_, log_two_tail_

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


@given(arrays(np.float32, st.integers(1, 300), elements=st.floats(0.0, 12.75, width=32)))
def test_log_two_tail_on_the_cpu_is_within_its_stated_ulps_of_the_exact_value(G):
    """With numpy's float32 log (a host view given) the tail form stays within a few ulp
    of ``log erfc(|G| / sqrt 2)`` computed in float64 from torch's float32 erfc (so that
    only the logarithm is compared); without one, torch's within 1 ulp."""
    signed = torch.from_numpy(np.where(np.arange(G.size) % 2 == 0, G, -G))
    host = np.empty_like(G)
    a = torch.from_numpy(host)
    assert log_two_tail_(a, signed, host) is a
    erfc = torch.special.erfc(torch.from_numpy(G) * (2.0**-0.5)).clamp_min(1e-38).numpy()
    exact = np.log(erfc.astype(np.float64))
    spacing = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    tiny = np.spacing(np.float32(0.0))
    ulps = np.abs(a.numpy() - exact) / np.maximum(spacing, tiny)
    assert ulps.max() <= 4.0  # any numpy build; here 3.83
    plain = log_two_tail_(torch.empty_like(a), signed)
    assert (np.abs(plain.numpy() - exact) / np.maximum(spacing, tiny)).max() <= 1.0


def test_log_two_tail_keeps_its_stated_bound_on_a_dense_grid():
    """The whole range the draws reach (|G| <= 8.57) and beyond, to the clamp."""
    G = np.linspace(0.0, 12.75, 400_001, dtype=np.float32)
    host = np.empty_like(G)
    log_two_tail_(torch.from_numpy(host), torch.from_numpy(G), host)
    erfc = torch.special.erfc(torch.from_numpy(G) * (2.0**-0.5)).numpy()
    exact = np.log(erfc.astype(np.float64))
    spacing = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    ulps = np.abs(host - exact) / np.maximum(spacing, np.spacing(np.float32(0.0)))
    assert ulps.max() <= LOG_FLOAT32_ULP


def test_a_host_scratch_shares_the_memory_of_the_scratch():
    """Writing through the numpy array changes the tensor, whatever the tile's rows."""
    batch = Batch(torch.zeros(10, 3))
    for rows in (10, 4, 10):
        tensor = batch.scratch("s", rows, torch.float32)
        host = batch.host_scratch("s", rows, torch.float32)
        host[...] = np.arange(rows * 3, dtype=np.float32).reshape(rows, 3)
        assert torch.equal(tensor, torch.arange(rows * 3, dtype=torch.float32).view(rows, 3))
