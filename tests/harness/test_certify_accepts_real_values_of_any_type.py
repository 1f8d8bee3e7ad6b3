"""``certify`` checks what every certifier returns before it stores it, and takes every
real value it stored before the check: a confidence spent as a 0-d array, a 0-d torch
tensor or a ``fractions.Fraction`` (``float()`` takes each); a scalar radius for a group
of one image (``np.squeeze`` of the array, say); an object array of real radii, which
``Certifier.radius`` itself accepts from a table function."""

from __future__ import annotations

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
