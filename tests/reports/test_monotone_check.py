"""reports.sanity.monotone: the p grid is fine enough to catch a dip between coarse
grid points."""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from certifiers.base import Certifier
from harness.certify import certify_store
from harness.noise import Gaussian
from reports.sanity import FAIL, PASS, SanityInputs, check_monotone
from tests.reports._report_synth import ALPHA, DIM, add_counts, cohen_by_hand, new_store


class Dipping(Certifier):
    """Cohen's radius, less 0.05 in a window 0.004 wide around ``dip`` (None: no dip)."""

    dip: float | None = 0.6

    def supports(self, noise, norm):
        return isinstance(noise, Gaussian) and norm == "l2"

    def _radius(self, noise, p, norm):
        r = noise.sigma * sps.norm.ppf(p)
        if self.dip is None:
            return r
        return np.where(np.abs(p - self.dip) < 0.002, np.maximum(r - 0.05, 0.0), r)


def _inputs(path, name):
    store = new_store(path, 20, {"m": 0.25})
    labels = np.arange(20) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, np.full(20, 990))
    certify_store(store, [name], ["l2"], [ALPHA], progress=False)
    with store:
        return SanityInputs.from_store(store)


def test_a_dip_between_coarse_grid_points_fails(tmp_path, plugins):
    cls = plugins.certifier("test-dipping", type("Dip", (Dipping,), {}))
    inputs = _inputs(tmp_path / "s.sqlite", "test-dipping")
    p = inputs.outcomes["p_lower"].to_numpy()
    p_max = float(p.max())
    # the dip around the 11th point of the default 64-point grid over (1/2, p_max],
    # away from every stored p_lower and from the points of a 4-point grid
    cls.dip = float(np.linspace(0.5, p_max, 64)[11])
    assert np.all(np.abs(p - cls.dip) > 0.1)
    assert np.min(np.abs(np.linspace(0.5, p_max, 4) - cls.dip)) > 0.01
    res = check_monotone(inputs)
    assert res.status == FAIL
    assert {row[5] for row in res.affected} == {"test-dipping"}


def test_without_the_dip_it_passes(tmp_path, plugins):
    plugins.certifier("test-flat", type("Flat", (Dipping,), {"dip": None}))
    assert check_monotone(_inputs(tmp_path / "s.sqlite", "test-flat")).status == PASS


class CappedThenDrops(Certifier):
    """min(Cohen's radius, 0.1), less 1e-5 from p = 0.8 on: non-increasing by 1e-5 once
    (1e4 times the check's tolerance), in a range where no stored p_lower lies."""

    def supports(self, noise, norm):
        return isinstance(noise, Gaussian) and norm == "l2"

    def _radius(self, noise, p, norm):
        return np.minimum(noise.sigma * sps.norm.ppf(p), 0.1) - 1e-5 * (p > 0.8)


def test_a_drop_of_1e_5_on_the_grid_fails(tmp_path, plugins):
    plugins.certifier("test-capped", CappedThenDrops)
    inputs = _inputs(tmp_path / "s.sqlite", "test-capped")
    assert inputs.outcomes["p_lower"].min() > 0.9
    res = check_monotone(inputs)
    assert res.status == FAIL
    assert {row[5] for row in res.affected} == {"test-capped"}


def test_radii_that_differ_at_equal_p_lower_fail(tmp_path):
    """One of the images at the largest p_lower (shared by several images) given a radius
    1e-5 of itself larger than the others there: equal p_lower, unequal radius."""
    from harness.store import CertificateRow
    from tests.reports._report_synth import copy_certificates, winner_store

    with winner_store(tmp_path / "s.sqlite") as store:
        copy_certificates(store, "cohen", "test-same-p", cohen_by_hand)
        rows = store.query(
            "SELECT model, noise, image, norm, alpha, prediction, p_lower, radius, correct"
            " FROM certificates WHERE certifier = 'test-same-p' AND model = 'm-win'"
            " ORDER BY p_lower DESC, image"
        )
        top = [r for r in rows if r[6] == rows[0][6]]
        assert len(top) > 1
        m, nz, img, norm, alpha, pred, p, r, correct = top[0]
        store.put_certificates(
            [CertificateRow(m, nz, img, "test-same-p", norm, alpha, pred, p, r * (1 + 1e-5),
                            bool(correct), 0.0)]
        )  # fmt: skip
        inputs = SanityInputs.from_store(store)
    res = check_monotone(inputs)
    assert res.status == FAIL
    assert {(row[3], row[5]) for row in res.affected} == {("m-win", "test-same-p")}
