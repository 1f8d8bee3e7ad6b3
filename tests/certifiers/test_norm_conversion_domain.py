"""Norm conversion is only defined on R^d with d >= 1: a zero (or negative) dimension
would make the Hoelder constant d^{1/p - 1/q} zero and the converted radius infinite
(or a division by zero), so it must be refused. And on its domain a converted radius is
sound: every target-norm ball of the converted radius lies in the native ball."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certifiers import norm_conversion as nconv

ORDERS = {"l1": 1, "l2": 2, "linf": np.inf}


@pytest.mark.parametrize("native", ["l1", "l2", "linf"])
@pytest.mark.parametrize("target", ["l1", "l2", "linf"])
@pytest.mark.parametrize("dim", [0, -1])
def test_a_dimension_below_one_is_refused(native, target, dim):
    with pytest.raises(ValueError, match="dim"):
        nconv.conversion_factor(native, target, dim)
    with pytest.raises(ValueError, match="dim"):
        nconv.convert(np.array([1.0]), native, target, dim)


@settings(max_examples=80, deadline=None, database=None)
@given(
    dim=st.integers(1, 50),
    native=st.sampled_from(list(ORDERS)),
    target=st.sampled_from(list(ORDERS)),
    seed=st.integers(0, 2**31),
)
def test_the_converted_ball_lies_inside_the_native_ball(dim, native, target, seed):
    """Scale random directions (and the extremal ones: an axis, the all-ones vector) to
    the converted radius in the target norm: their native norm never exceeds the native
    radius."""
    radius = 1.7
    converted = float(nconv.convert(np.array(radius), native, target, dim))
    rng = np.random.default_rng(seed)
    directions = np.vstack([rng.standard_normal((20, dim)), np.eye(dim)[:1], np.ones((1, dim))])
    for d in directions:
        d = d / np.linalg.norm(d, ORDERS[target]) * converted
        assert np.linalg.norm(d, ORDERS[native]) <= radius * (1 + 1e-12)
