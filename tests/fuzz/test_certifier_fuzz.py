"""Fuzzing ``radius()`` of every registered certifier with arbitrary ``p_lower`` input:
numbers in and out of [0, 1], NaN, inf, lists, nested lists, object, string, bool and
complex arrays, None. Each call either returns radii (finite or inf, never NaN, never
negative, the input's shape, 0 where p <= 1/2) or raises a clear ``ValueError`` /
``TypeError`` with a one-line message; nothing else."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import certifiers
from harness.noise import noise_class, noise_families

DIM = 64
#: Small Monte Carlo budgets: the fuzz checks input handling, not the tables' precision.
OPTIONS = {"functional": {"mc_samples": 20_000, "mc_grid": 50}}


def _pairs():
    """Every (certifier, noise, norm) the registry certifies, on each family's examples."""
    noises = [n for f in noise_families() for n in noise_class(f).examples(DIM)]
    out = []
    for name in certifiers.available():
        c = certifiers.get(name, **OPTIONS.get(name, {}))
        for noise in noises:
            for norm in ("l1", "l2", "linf"):
                if c.supports(noise, norm):
                    out.append((c, noise, norm))
    return out


PAIRS = _pairs()

floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0.0, 1.0),
    st.sampled_from([0.5, 0.5 + 1e-16, 1.0 - 1e-16, 1.0, 0.0, -0.0, 5e-324, 1 - 2**-53]),
)
scalars = st.one_of(
    floats,
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.none(),
    st.text(max_size=5),
    st.complex_numbers(max_magnitude=2),
    st.sampled_from(["0.7", b"0.7", object()]),
)
p_inputs = st.one_of(
    scalars,
    st.lists(floats, max_size=6),
    st.lists(scalars, max_size=4),
    st.lists(st.lists(floats, min_size=2, max_size=2), max_size=3),
    st.lists(floats, max_size=6).map(np.array),
    st.lists(st.one_of(st.floats(-1e30, 1e30), st.just(math.nan)), max_size=4).map(
        lambda v: np.array(v, dtype=np.float32)
    ),
    st.lists(scalars, max_size=3).map(lambda v: np.array(v, dtype=object)),
    st.lists(st.text(max_size=3), max_size=3).map(np.array),
    st.lists(st.complex_numbers(max_magnitude=1), max_size=3).map(np.array),
    st.lists(st.booleans(), max_size=3).map(np.array),
)


@pytest.fixture(scope="module", autouse=True)
def _tables_built_once():
    """Build the certifiers' radius tables before the timed examples (cached on disk)."""
    for c, noise, norm in PAIRS:
        c.radius(noise, 0.9, norm)


def _expected_radius_shape(p) -> tuple[int, ...]:
    return np.asarray(p, dtype=np.float64).shape


@settings(max_examples=400)
@given(which=st.integers(0, len(PAIRS) - 1), p=p_inputs)
def test_radius_gives_radii_or_a_clear_error(which, p):
    c, noise, norm = PAIRS[which]
    try:
        r = c.radius(noise, p, norm)
    except (ValueError, TypeError) as err:
        message = str(err)
        assert message and "\n" not in message
        return
    arr = np.asarray(r)
    assert arr.dtype == np.float64
    assert not np.isnan(arr).any() and (arr >= 0).all()
    pa = np.asarray(p, dtype=np.float64)
    assert arr.shape == pa.shape
    assert isinstance(r, float) == (pa.ndim == 0)
    assert (arr[pa <= 0.5] == 0).all()
    assert np.isfinite(pa).all() and ((pa >= 0) & (pa <= 1)).all()  # else it was refused


@settings(max_examples=100)
@given(
    which=st.integers(0, len(PAIRS) - 1),
    norm=st.one_of(st.text(max_size=4), st.none(), st.integers(), st.sampled_from(["L2", "l2 "])),
)
def test_a_bad_norm_is_a_clear_error(which, norm):
    c, noise, good = PAIRS[which]
    if norm in ("l1", "l2", "linf"):
        return
    with pytest.raises(ValueError, match="unknown norm"):
        c.radius(noise, 0.9, norm)


@pytest.mark.parametrize("name", certifiers.available())
@given(p=p_inputs)
@settings(max_examples=20)
def test_certifiers_without_a_noise_refuse_clearly(name, p):
    """Not a noise, or a deterministic certifier: refused, never a radius."""
    c = certifiers.get(name)
    with pytest.raises((ValueError, TypeError)):
        c.radius("gaussian", p, "l2")


def test_the_registry_has_pairs_to_fuzz():
    assert len(PAIRS) >= 50 and math.isfinite(len(PAIRS))
