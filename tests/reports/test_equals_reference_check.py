"""reports.sanity.equals_reference (Corollary 1/2, hockey-stick): a check that compared
nothing does not pass, radii recomputed from the counts are compared at the stored
alpha's p_lower, and the largest difference is over every row."""

from __future__ import annotations

import numpy as np
from scipy import stats as sps
from scipy.stats import beta

from certifiers.base import Certifier
from harness.certify import certify_store
from harness.noise import Gaussian
from reports.sanity import FAIL, PASS, SKIPPED, SanityInputs, check_equals_cohen
from tests.reports._report_synth import (
    ALPHA,
    DIM,
    N,
    add_counts,
    cohen_by_hand,
    copy_certificates,
    new_store,
    winner_store,
)

TOP = 990


class Supports(Certifier):
    """Cohen's l2 radius by scipy, ``factor`` x it at p = ``at`` (None: nowhere)."""

    factor, at = 1.0, None
    norms: tuple[str, ...] = ("l2",)

    def supports(self, noise, norm):
        return isinstance(noise, Gaussian) and norm in self.norms

    def _radius(self, noise, p, norm):
        r = noise.sigma * sps.norm.ppf(p)
        return r if self.at is None else np.where(np.abs(p - self.at) < 1e-9, self.factor * r, r)


def _store(path):
    store = new_store(path, 20, {"m": 0.25})
    labels = np.arange(20) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, np.full(20, TOP))
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    with store:
        return SanityInputs.from_store(store)


def _check(inputs, certifier, norms=("l2",)):
    return check_equals_cohen(
        inputs, name="c", title="c", certifier=certifier, norms=norms, cohen="cohen"
    )


def test_a_certifier_that_certifies_nothing_here_is_skipped_not_passed(tmp_path, plugins):
    """Registered, no stored rows, and supporting none of the stored noises against the
    norm checked (l-inf here): nothing is compared, so the check cannot pass."""
    plugins.certifier("test-l2-only", type("L2Only", (Supports,), {}))
    res = _check(_store(tmp_path / "s.sqlite"), "test-l2-only", norms=("linf",))
    assert res.status == SKIPPED


def test_recomputed_radii_are_compared_at_the_stored_alphas_p_lower(tmp_path, plugins):
    """All 20 images have 990 of 1000 draws on the top class: p_lower at alpha = 0.001 is
    the Clopper-Pearson bound beta.ppf(0.001, 990, 11). A certifier 1% off exactly there
    (and right everywhere else) must fail the recomputed comparison."""
    p0 = float(beta.ppf(ALPHA, TOP, N - TOP + 1))
    plugins.certifier("test-off-at-p0", type("Off", (Supports,), {"factor": 1.01, "at": p0}))
    plugins.certifier("test-right", type("Right", (Supports,), {}))
    inputs = _store(tmp_path / "s.sqlite")
    np.testing.assert_allclose(inputs.outcomes["p_lower"], p0, rtol=1e-12)
    assert _check(inputs, "test-right").status == PASS
    bad = _check(inputs, "test-off-at-p0")
    assert bad.status == FAIL
    assert bad.max_diff > 1e-3


def test_the_largest_difference_is_over_every_row(tmp_path):
    """Stored radii 1% above Cohen's on the model whose rows come first (m-low), right on
    the others: the largest difference is that of m-low, by hand."""
    with winner_store(tmp_path / "s.sqlite") as store:
        copy_certificates(store, "cohen", "test-functional", cohen_by_hand)
        store.query(
            "UPDATE certificates SET radius = radius * 1.01"
            " WHERE certifier = 'test-functional' AND model = 'm-low'"
        )
        store._db.commit()
        inputs = SanityInputs.from_store(store)
    out = inputs.outcomes
    low = out[(out["certifier"] == "test-functional") & (out["model"] == "m-low")]
    sigma = 0.25
    want = float(
        np.max(
            np.abs(
                low["radius"]
                - np.where(low["p_lower"] > 0.5, sigma * sps.norm.ppf(low["p_lower"]), 0)
            )
        )
    )
    assert want > 1e-3
    res = _check(inputs, "test-functional")
    assert res.status == FAIL
    assert {row[3] for row in res.affected} == {"m-low"}
    assert abs(res.max_diff - want) < 1e-6


def test_an_unregistered_reference_skips_the_comparison(tmp_path):
    inputs = _store(tmp_path / "s.sqlite")
    res = check_equals_cohen(
        inputs, name="c", title="c", certifier="cohen", norms=("l2",), cohen="test-absent"
    )
    assert res.status == SKIPPED and "'test-absent' not registered" in res.summary
