"""``harness.noise.params``: every check refuses what is out of its range (bools, strings,
non-finite and out-of-range values), by the exception its docstring states, and returns
what is in range as the right Python type."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.noise.params import (
    check_dim,
    check_exponent,
    check_nonnegative_finite,
    check_positive_finite,
    check_real,
)

NOT_NUMBERS = [True, False, "1.0", "2", None, [1.0], 1 + 0j]
NON_FINITE = [math.inf, -math.inf, math.nan]
CHECKS = [check_real, check_positive_finite, check_nonnegative_finite]


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("value", NOT_NUMBERS)
def test_a_non_number_is_a_type_error(check, value):
    with pytest.raises(TypeError, match="x must be a real number"):
        check("x", value)


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("value", NON_FINITE)
def test_a_non_finite_value_is_a_value_error(check, value):
    with pytest.raises(ValueError, match="x must be"):
        check("x", value)


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**6), 10**6))
def test_finite_values_by_sign(value):
    assert check_real("x", value) == float(value) and type(check_real("x", value)) is float
    if value > 0:
        assert check_positive_finite("x", value) == float(value)
    else:
        with pytest.raises(ValueError, match="positive"):
            check_positive_finite("x", value)
    if value >= 0:
        assert check_nonnegative_finite("x", value) == float(value)
    else:
        with pytest.raises(ValueError, match="non-negative"):
            check_nonnegative_finite("x", value)


@given(st.floats(max_value=0.0, exclude_max=True, allow_infinity=False, allow_nan=False))
def test_any_negative_value_however_small_is_refused_as_non_negative(value):
    with pytest.raises(ValueError):
        check_nonnegative_finite("j", value)


@given(st.integers(-5, 0))
def test_a_dimension_below_one_is_refused(dim):
    with pytest.raises(ValueError, match="dim must be >= 1"):
        check_dim(dim)


@pytest.mark.parametrize("dim", [True, False, 2.0, "3", None])
def test_a_dimension_that_is_not_an_int_is_a_type_error(dim):
    with pytest.raises(TypeError):
        check_dim(dim)


@given(st.integers(1, 10**6))
def test_a_dimension_is_returned_as_given(dim):
    assert check_dim(dim) == dim


@given(dim=st.integers(1, 5000), frac=st.floats(0.0, 1.0, exclude_max=True))
def test_an_exponent_in_range_is_returned_as_a_float(dim, frac):
    k = frac * dim
    if k < dim:
        assert check_exponent(k, dim) == k


@given(dim=st.integers(1, 5000), extra=st.floats(0.0, 1e6))
def test_an_exponent_at_or_beyond_the_dimension_is_refused(dim, extra):
    with pytest.raises(ValueError, match="0 <= k < dim"):
        check_exponent(dim + extra, dim)


@pytest.mark.parametrize("k", [-1e-300, -1.0, *NON_FINITE])
def test_a_negative_or_non_finite_exponent_is_refused(k):
    with pytest.raises(ValueError, match="0 <= k < dim"):
        check_exponent(k, 5)


@pytest.mark.parametrize("k", NOT_NUMBERS)
def test_an_exponent_that_is_not_a_number_is_a_type_error(k):
    with pytest.raises(TypeError, match="k must be a real number"):
        check_exponent(k, 5)


@pytest.mark.parametrize("check", CHECKS)
def test_a_number_too_large_for_a_float_is_a_value_error(check):
    with pytest.raises(ValueError, match="x must be"):
        check("x", 10**400)


def test_a_noise_given_a_number_too_large_for_a_float_refuses_it_by_name():
    from harness.noise import Gaussian, from_spec

    with pytest.raises(ValueError, match="sigma"):
        Gaussian(10**400, 3)
    with pytest.raises(ValueError, match="sigma"):
        from_spec({"family": "gaussian", "params": {"sigma": 10**400, "dim": 3}})


@pytest.mark.parametrize("value", [np.float32(0.5), np.float64(0.5), np.int64(2), np.int8(3)])
def test_numpy_scalars_are_numbers_returned_as_python_floats(value):
    for check in (check_real, check_positive_finite, check_nonnegative_finite):
        got = check("x", value)
        assert type(got) is float and got == float(value)
    assert type(check_exponent(value, 64)) is float


def test_numpy_integers_are_dimensions_returned_as_python_ints_and_numpy_bools_are_not():
    got = check_dim(np.int64(3))
    assert type(got) is int and got == 3
    with pytest.raises(TypeError):
        check_dim(np.bool_(True))
    with pytest.raises(TypeError):
        check_real("x", np.bool_(True))
