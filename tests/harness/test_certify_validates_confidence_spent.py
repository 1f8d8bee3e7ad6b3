"""A certificate's ``spends`` (the failure probability it spends beyond alpha) is stored
unchecked: certify_store writes a plugin's negative, > 1 or infinite value as it comes
(the report then dies with "alpha and confidence must lie in (0, 1), shared in [0, 1)",
naming no certifier, or, where the row merges with another certifier's identical radii,
hides it under ``max``), and a NaN aborts the whole certify with sqlite's "NOT NULL
constraint failed: certificates.confidence_spent" after earlier groups were written,
losing the other certifiers' rows of that group and recording no failure. It should be
refused like an invalid radius: a CertificationError naming the plugin, its rows not
written, the other certifiers' rows written."""

from __future__ import annotations

import numpy as np
import pytest

from certifiers.base import Certificate, Certifier
from harness.certify import CertificationError, certify_store
from harness.noise import Gaussian
from tests.reports._report_synth import DIM, add_counts, new_store

CONFIG = {"certify": {"certifiers": ["cohen"], "norms": ["l2"], "alpha": [0.001]}}


def _third_of_cohen(c, noise, p):
    from scipy.special import ndtri

    return noise.sigma * ndtri(p) / 3


def _spending(value):
    class Spending(Certifier):
        certificates = {
            ("gaussian", "l2"): Certificate(_third_of_cohen, spends=lambda c, noise: value)
        }

    return Spending


@pytest.mark.parametrize("spent", [-0.5, 2.0, float("inf"), float("nan")])
def test_an_invalid_confidence_spent_is_refused_and_named(tmp_path, plugins, spent):
    plugins.certifier("spending-plugin", _spending(spent))
    store = new_store(tmp_path / "s.sqlite", 6, {"m": 0.25}, config=CONFIG)
    labels = np.arange(6) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, [990] * 6)
    try:
        with pytest.raises(CertificationError) as caught:
            certify_store(store, ["cohen", "spending-plugin"], ["l2"], [0.001], progress=False)
        assert "spending-plugin" in str(caught.value)
        by_certifier = dict(
            store.query("SELECT certifier, COUNT(*) FROM certificates GROUP BY certifier")
        )
        assert by_certifier == {"cohen": 6}
    finally:
        store.close()
