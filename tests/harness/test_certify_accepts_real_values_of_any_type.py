"""``certify`` checks what every certifier returns before it stores it, and takes every
real value it stored before the check: a confidence spent as a 0-d array, a 0-d torch
tensor or a ``fractions.Fraction`` (``float()`` takes each); a scalar radius for a group
of one image (``np.squeeze`` of the array, say); an object array of real radii, which
``Certifier.radius`` itself accepts from a table function; radii in a narrower or wider
float than float64, stored not above the radius computed (a float32 radius was widened
as it was rounded, up as often as down)."""

from __future__ import annotations

import numbers
from fractions import Fraction

import numpy as np
import pytest
import torch

from certifiers.base import Certificate, Certifier
from harness.certify import certify_store
from harness.noise import Gaussian
from tests.reports._report_synth import DIM, add_counts, new_store

CONFIG = {"certify": {"certifiers": ["cohen"], "norms": ["l2"], "alpha": [0.001]}}


def _half_cohen(c, noise, p):
    from scipy.special import ndtri

    return 0.5 * noise.sigma * ndtri(p)


def _certify(tmp_path, n_images, name):
    store = new_store(tmp_path / "s.sqlite", n_images, {"m": 0.25}, config=CONFIG)
    labels = np.arange(n_images) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, [990] * n_images)
    try:
        certify_store(store, ["cohen", name], ["l2"], [0.001], progress=False)
        return store.query(
            "SELECT radius, confidence_spent FROM certificates WHERE certifier = ?", (name,)
        )
    finally:
        store.close()


SPENDS = {
    "0-d numpy array": lambda: np.asarray(0.01),
    "0-d torch tensor": lambda: torch.tensor(0.01, dtype=torch.float64),
    "Fraction": lambda: Fraction(1, 100),
}


@pytest.mark.parametrize("case", sorted(SPENDS))
def test_a_real_confidence_spent_of_another_numeric_type_is_stored(tmp_path, plugins, case):
    make = SPENDS[case]

    class Spending(Certifier):
        certificates = {
            ("gaussian", "l2"): Certificate(_half_cohen, spends=lambda c, noise: make())
        }

    plugins.certifier("spending-plugin", Spending)
    rows = _certify(tmp_path, 3, "spending-plugin")
    assert len(rows) == 3 and all(spent == pytest.approx(0.01) for _, spent in rows), rows


def _overriding(make):
    class Overriding(Certifier):
        certificates = {("gaussian", "l2"): Certificate(_half_cohen)}

        def radius(self, noise, p_lower, norm="l2"):
            return make(np.asarray(super().radius(noise, p_lower, norm), dtype=np.float64))

    return Overriding


def test_a_squeezed_radius_of_a_one_image_group_is_stored(tmp_path, plugins):
    plugins.certifier("squeezing-plugin", _overriding(np.squeeze))
    rows = _certify(tmp_path, 1, "squeezing-plugin")
    assert len(rows) == 1 and rows[0][0] > 0, rows


def test_an_object_array_of_real_radii_is_stored(tmp_path, plugins):
    plugins.certifier("object-plugin", _overriding(lambda r: r.astype(object)))
    rows = _certify(tmp_path, 4, "object-plugin")
    assert len(rows) == 4 and all(r > 0 for r, _ in rows), rows


NARROW = {
    "float16": lambda r: r.astype(np.float16),
    "float32": lambda r: r.astype(np.float32),
    # numpy widens a float32 among float64 numbers unstepped: each element is read
    "float32_in_a_list": lambda r: [np.float32(x) for x in r[:-1]] + [float(r[-1])],
    "float32_in_an_object_array": lambda r: np.array([np.float32(x) for x in r], dtype=object),
}


def _stored_beside_half_cohen(tmp_path, plugins, make) -> tuple[list[float], list[float]]:
    """The radii the plugin returning ``make`` of ``_half_cohen``'s radii stores, and
    ``_half_cohen``'s (from cohen's, halved exactly) on 12 images."""
    plugins.certifier("narrow-plugin", _overriding(make))
    p = np.linspace(0.9, 0.999, 12)  # radii no float16 or float32 holds exactly
    store = new_store(tmp_path / "s.sqlite", 12, {"m": 0.25}, config=CONFIG)
    labels = np.arange(12) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, np.round(p * 1000).astype(int))
    try:
        certify_store(store, ["cohen", "narrow-plugin"], ["l2"], [0.001], progress=False)
        query = "SELECT radius FROM certificates WHERE certifier = ? ORDER BY image"
        stored = [r for (r,) in store.query(query, ("narrow-plugin",))]
        computed = [0.5 * r for (r,) in store.query(query, ("cohen",))]
    finally:
        store.close()
    assert len(stored) == 12 and min(computed) > 0
    return stored, computed


@pytest.mark.parametrize("case", sorted(NARROW))
def test_radii_of_a_narrower_float_are_stored_not_above_the_radius(tmp_path, plugins, case):
    stored, computed = _stored_beside_half_cohen(tmp_path, plugins, NARROW[case])
    assert all(s <= c for s, c in zip(stored, computed, strict=True)), (stored, computed)
    assert stored == pytest.approx(computed, rel=2**-9)


def _below_as_longdouble(r):
    return r.astype(np.longdouble) * (np.longdouble(1) - np.longdouble(2) ** -60)


def _below_as_fractions(r):
    return [Fraction(float(x)) - Fraction(1, 10**30) for x in r]


WIDER = {"longdouble": _below_as_longdouble, "fractions": _below_as_fractions}


@pytest.mark.parametrize("case", sorted(WIDER))
def test_radii_more_precise_than_float64_are_stored_not_above_them(tmp_path, plugins, case):
    """A long double (where the platform's is wider) or a ``Fraction`` just below a
    float64 rounds up to it, to nearest."""
    make = WIDER[case]
    stored, computed = _stored_beside_half_cohen(tmp_path, plugins, make)
    returned = make(np.asarray(computed))
    exact = Fraction if case == "fractions" else np.longdouble  # compared without rounding
    assert all(exact(s) <= v for s, v in zip(stored, returned, strict=True))
    assert stored == pytest.approx(computed, rel=2**-50)


class _Real:
    """A real number of no numeric type numpy or ``fractions`` knows (as sympy's
    ``Float``): it says only its float."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __float__(self) -> float:
        return self.value


numbers.Real.register(_Real)


def test_a_real_of_another_type_is_stored_one_step_below_its_float(tmp_path, plugins):
    stored, computed = _stored_beside_half_cohen(
        tmp_path, plugins, lambda r: [_Real(float(x)) for x in r]
    )
    assert stored == [float(np.nextafter(c, -np.inf)) for c in computed]
