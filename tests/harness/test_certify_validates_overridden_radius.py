"""certify_store promises (README: "A certifier that fails on a noise (a plugin's
negative or NaN radius, say) writes none of its certificates for that noise") that a bad
radius never reaches the store. The validation lives only in ``Certifier.radius``: a
plugin certifier that overrides ``radius`` itself (a public method of the documented
``Certifier`` base) bypasses it, and ``_certify_group`` stores whatever comes back."""

from __future__ import annotations

import numpy as np
import pytest

from certifiers.base import Certificate, Certifier
from harness.certify import CertificationError, certify_store
from harness.noise import Gaussian
from tests.reports._report_synth import DIM, add_counts, new_store

CONFIG = {"certify": {"certifiers": ["cohen"], "norms": ["l2"], "alpha": [0.001]}}


def _half_cohen(c, noise, p):
    from scipy.special import ndtri

    return 0.5 * noise.sigma * ndtri(p)


def _overriding(make):
    class Overriding(Certifier):
        certificates = {("gaussian", "l2"): Certificate(_half_cohen)}

        def radius(self, noise, p_lower, norm="l2"):
            p = np.asarray(p_lower, dtype=np.float64)
            return make(p, np.asarray(super().radius(noise, p, norm), dtype=np.float64))

    return Overriding


# each breaks one rule, and only where p_lower > 1/2 unless the rule is the abstention
CASES = {
    "negative": lambda p, r: np.where(p > 0.5, -1.0, r),
    "nan": lambda p, r: np.where(p > 0.5, np.nan, r),
    "inf": lambda p, r: np.where(p > 0.5, np.inf, r),
    "abstain": lambda p, r: np.where(p <= 0.5, 0.3, r),  # a radius where it must abstain
    "too_many": lambda p, r: np.concatenate([r, r]),  # was silently truncated
    "one_for_all": lambda p, r: np.zeros(1),  # one radius for every image
    "inf_float32": lambda p, r: np.where(p > 0.5, np.inf, r).astype(np.float32),
    "bool_in_a_list": lambda p, r: [
        True if q > 0.5 else float(x) for q, x in zip(p, r, strict=True)
    ],
}


def _store(path):
    store = new_store(path, 6, {"m": 0.25}, config=CONFIG)
    labels = np.arange(6) % 10
    # three images with p_A well above 1/2, three at or below it (abstain)
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, [990, 990, 990, 300, 300, 300])
    return store


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_radius_from_an_overridden_radius_is_refused(tmp_path, plugins, case):
    plugins.certifier("overriding-plugin", _overriding(CASES[case]))
    store = _store(tmp_path / "s.sqlite")
    try:
        with pytest.raises(CertificationError) as caught:
            certify_store(store, ["cohen", "overriding-plugin"], ["l2"], [0.001], progress=False)
        assert "overriding-plugin" in str(caught.value)
        stored = store.query(
            "SELECT COUNT(*) FROM certificates WHERE certifier = 'overriding-plugin'"
        )
        assert stored == [(0,)]
    finally:
        store.close()
