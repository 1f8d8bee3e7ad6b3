"""A noise whose transform is tabulated is sampled within a stated total variation of its
law (``Noise.law_distance``); certification lowers every ``p_lower`` by it, so the
certificate holds for the stated law, and the report's recomputation does the same."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.stats import beta, norm

import certifiers
from certifiers.base import Certificate, Certifier
from harness.certify import CertificationError, certify_store
from harness.noise import Gaussian, GeneralizedGaussian, noise_class, noise_families
from reports.sanity.base import SanityInputs
from reports.sanity.reproducible import check_reproducible
from tests.reports._report_synth import DIM, N, add_counts, new_store

TOPS = [999, 950, 800, 560, 501]
CONFIG = {"certify": {"certifiers": ["cohen"], "norms": ["l2"], "alpha": [0.001]}}


def _counts_store(path, *noises):
    store = new_store(path, len(TOPS), {"m": 0.25}, config=CONFIG)
    labels = np.arange(len(TOPS)) % 10
    for noise in noises:
        add_counts(store, "m", noise, labels, labels, TOPS)
    return store


def _clopper_pearson(alpha: float) -> np.ndarray:
    return np.array([beta.ppf(alpha, k, N - k + 1) for k in TOPS])


class StatedGaussian(Gaussian):
    """The Gaussian, as if its transform were a table with a (large) stated error."""

    family = "stated_gaussian"
    stated: Any = {"tv_bound": 0.02}

    def approximation(self) -> dict[str, Any] | None:
        return {"test table": self.stated}


class CohenOnStated(Certifier):
    """Cohen's radius ``sigma Phi^{-1}(p)`` on ``stated_gaussian``, by scipy."""

    certificates = {
        ("stated_gaussian", "l2"): Certificate(
            lambda c, noise, p: np.where(p > 0.5, noise.sigma * norm.ppf(p), 0.0)
        )
    }


@pytest.fixture
def stated(plugins):
    plugins.noise("stated_gaussian", StatedGaussian)
    plugins.certifier("cohen-on-stated", CohenOnStated)
    return StatedGaussian(0.25, DIM)


def test_certificates_hold_for_the_stated_law_not_only_the_sampled_one(tmp_path, stated):
    """p_lower is scipy's Clopper-Pearson bound less the stated 0.02, so an image whose
    bound was 0.51 now abstains; the Gaussian, exact, keeps the plain bound."""
    store = _counts_store(tmp_path / "s.sqlite", stated, Gaussian(0.25, DIM))
    certify_store(store, ["cohen", "cohen-on-stated"], ["l2"], [0.001], progress=False)
    plain = _clopper_pearson(0.001)
    rows = {
        (noise, image): (p, radius, prediction)
        for noise, image, p, radius, prediction in store.query(
            "SELECT noise, image, p_lower, radius, prediction FROM certificates"
        )
    }
    store.close()
    for i, want in enumerate(np.maximum(plain - 0.02, 0.0)):
        p, radius, prediction = rows[(stated.name, i)]
        assert p == pytest.approx(want, rel=1e-12, abs=1e-15)
        assert radius == pytest.approx(0.25 * norm.ppf(want) if want > 0.5 else 0.0, rel=1e-9)
        assert (prediction == -1) == (want <= 0.5)
        assert rows[(Gaussian(0.25, DIM).name, i)][0] == pytest.approx(plain[i], rel=1e-12)
    assert plain[3] > 0.5 >= plain[3] - 0.02  # the image it costs its certificate


def test_the_report_recomputes_the_lowered_bound(tmp_path, stated):
    store = _counts_store(tmp_path / "s.sqlite", stated)
    certify_store(store, ["cohen-on-stated"], ["l2"], [0.001, 0.01], progress=False)
    result = check_reproducible(SanityInputs.from_store(store))
    store.close()
    assert result.status == "pass", result.line()
    assert "largest radius difference 0" in result.summary


@pytest.mark.parametrize("bound", [{"max_log_error": 1e-12}, {"tv_bound": float("nan")}])
def test_an_approximation_without_a_bound_is_refused_not_taken_as_exact(
    tmp_path, stated, monkeypatch, bound
):
    monkeypatch.setattr(StatedGaussian, "stated", bound)
    with pytest.raises(ValueError, match="states no tv_bound"):
        stated.law_distance()
    store = _counts_store(tmp_path / "s.sqlite", stated, Gaussian(0.25, DIM))
    with pytest.raises(CertificationError) as caught:
        certify_store(store, ["cohen", "cohen-on-stated"], ["l2"], [0.001], progress=False)
    assert f"noise {stated.name}" in str(caught.value) and "tv_bound" in str(caught.value)
    assert store.query("SELECT DISTINCT noise FROM certificates") == [(Gaussian(0.25, DIM).name,)]
    # the failure is recorded for the certifiers of that noise only (cohen does not take it)
    failures = store.get_manifest("certification_failures")
    assert {(f["noise"], f["certifier"]) for f in failures} == {(stated.name, "cohen-on-stated")}
    store.close()


def test_a_tabulated_family_is_certified_below_the_plain_bound(tmp_path):
    """The generalized Gaussian (k > 0) samples its radius through a table: its stored
    p_lower is the plain bound less the table's stated distance, and its radius is the
    certifier's at that p_lower."""
    noise = GeneralizedGaussian.matched(0.25, DIM, k=8.0)
    distance = noise.approximation()["radius table"]["tv_bound"]
    assert 0 < distance < 1e-6
    store = _counts_store(tmp_path / "s.sqlite", noise)
    certify_store(store, ["functional"], ["l2"], [0.001], progress=False)
    got = store.query(
        "SELECT image, p_lower, radius FROM certificates WHERE noise = ? ORDER BY image",
        (noise.name,),
    )
    store.close()
    want = _clopper_pearson(0.001) - distance
    assert [p for _, p, _ in got] == pytest.approx(want, rel=1e-13)
    radius = certifiers.get("functional").radius(noise, want, norm="l2")
    assert [r for _, _, r in got] == pytest.approx(radius, rel=1e-12)


@pytest.mark.parametrize("family", sorted(noise_families()))
def test_every_family_states_a_distance_exactly_when_it_approximates(family):
    """Zero for a transform exact up to rounding; for a tabulated one, positive and below
    the 1e-5 a table may have, on each of the family's examples."""
    for noise in noise_class(family).examples(DIM):
        distance = noise.law_distance()
        if noise.approximation() is None:
            assert distance == 0.0
        else:
            assert 0.0 < distance < 1e-5 * len(noise.approximation())


def test_a_rows_reach_is_taken_at_the_lowered_ceiling(stated):
    """The largest radius n draws can give: at ``alpha^(1/n)`` less the law distance."""
    from reports.reach import reach

    n, alpha = 10_000, 0.001
    got = reach(["cohen-on-stated"], "l2", alpha, n, stated.spec())
    assert got == pytest.approx(0.25 * norm.ppf(alpha ** (1 / n) - 0.02), rel=1e-12)
    exact = Gaussian(0.25, DIM)
    assert reach(["cohen"], "l2", alpha, n, exact.spec()) == pytest.approx(
        0.25 * norm.ppf(alpha ** (1 / n)), rel=1e-12
    )


def test_the_manifest_records_each_noises_distance(tmp_path, stated):
    exact = Gaussian(0.25, DIM)
    store = _counts_store(tmp_path / "s.sqlite", stated, exact)
    certify_store(store, ["cohen", "cohen-on-stated"], ["l2"], [0.001], progress=False)
    assert store.get_manifest("law_distances") == {stated.name: 0.02, exact.name: 0.0}
    store.close()


def test_without_the_noise_plugin_the_report_takes_the_recorded_distance(tmp_path, stated):
    """A report made where the plugin noise is not registered cannot recompute the radii,
    but recomputes p_lower with the distance the manifest recorded: a store certified
    with it passes that part, and one whose record says otherwise fails it."""
    from harness.noise.registry import NOISES

    store = _counts_store(tmp_path / "s.sqlite", stated)
    certify_store(store, ["cohen-on-stated"], ["l2"], [0.001], progress=False)
    NOISES.unregister("stated_gaussian")
    try:
        result = check_reproducible(SanityInputs.from_store(store))
        assert result.status == "incomplete" and not result.affected, result.line()
        assert "1 row(s) recomputed (1 without their radius)" in result.summary
        store.put_manifest({"law_distances": {stated.name: 0.0}})
        result = check_reproducible(SanityInputs.from_store(store))
        assert result.status == "fail" and "p_lower" in result.details[0], result.line()
    finally:
        NOISES.add("stated_gaussian", StatedGaussian)
        store.close()


def test_the_report_says_what_p_a_is_and_the_largest_distance_taken(tmp_path, stated):
    from reports.cli import make_report
    from reports.view import footnotes

    exact = Gaussian(0.25, DIM)
    store = _counts_store(tmp_path / "s.sqlite", stated, exact)
    certify_store(store, ["cohen", "cohen-on-stated"], ["l2"], [0.001], progress=False)
    store.close()
    report, _ = make_report(tmp_path / "s.sqlite")
    (line,) = [n for n in footnotes(report) if n.startswith("p_A:")]
    assert "less the total variation" in line and "at most 0.02, for 1 of the 2 noises" in line
    report, _ = make_report(tmp_path / "s.sqlite", certifiers=["cohen"])
    (line,) = [n for n in footnotes(report) if n.startswith("p_A:")]
    assert line.endswith("(Cohen et al. 2019).")


def test_the_distance_recorded_when_sampling_counts_when_this_codes_is_smaller(
    tmp_path, stated, monkeypatch
):
    """Counts drawn through a table that stated 0.05 (the run's record) are certified at
    0.05 even after the table improved to 0.02; a record that says less than this code
    does not lower it; a store without a record takes this code's."""
    store = _counts_store(tmp_path / "s.sqlite", stated)
    store.put_manifest({"noise_approximations": {stated.name: {"old table": {"tv_bound": 0.05}}}})
    certify_store(store, ["cohen-on-stated"], ["l2"], [0.001], progress=False)
    assert store.get_manifest("law_distances") == {stated.name: 0.05}
    (p,) = store.query("SELECT p_lower FROM certificates WHERE image = 0")[0]
    assert p == pytest.approx(_clopper_pearson(0.001)[0] - 0.05, rel=1e-12)
    assert check_reproducible(SanityInputs.from_store(store)).status == "pass"
    store.put_manifest({"noise_approximations": {}})  # the run saw an exact transform
    certify_store(store, ["cohen-on-stated"], ["l2"], [0.001], progress=False)
    assert store.get_manifest("law_distances") == {stated.name: 0.02}
    store.close()
    assert stated.sampled_law_distance(None) == stated.law_distance() == 0.02


def test_a_rows_reach_is_taken_at_the_distance_certification_subtracted(tmp_path, stated):
    """Counts certified at a recorded 0.05 (this code's table says 0.02) reach no further
    than ``alpha^(1/n) - 0.05`` allows; a record that is no distance gives no reach."""
    from reports.cli import make_report
    from reports.reach import reach

    store = _counts_store(tmp_path / "s.sqlite", stated)
    store.put_manifest({"noise_approximations": {stated.name: {"old table": {"tv_bound": 0.05}}}})
    certify_store(store, ["cohen-on-stated"], ["l2"], [0.001], progress=False)
    store.close()
    report, _ = make_report(tmp_path / "s.sqlite", reference="cohen-on-stated")
    (row,) = [r for b in report.boards for r in b.rows if r.noise == stated.name]
    assert row.reach == pytest.approx(0.25 * norm.ppf(0.001 ** (1 / N) - 0.05), rel=1e-12)
    for bad in (1.5, float("nan"), "0.05"):
        assert reach(["cohen-on-stated"], "l2", 0.001, N, stated.spec(), None, bad) is None


def test_a_recorded_approximation_without_a_bound_is_refused(stated):
    with pytest.raises(ValueError, match="states no tv_bound"):
        stated.sampled_law_distance({stated.name: {"old table": {"max_log_error": 1e-9}}})
    with pytest.raises(ValueError, match="add up to"):
        stated.sampled_law_distance({stated.name: {"a": {"tv_bound": 0.6}, "b": {"tv_bound": 0.5}}})


def test_a_store_certified_before_law_distances_is_told_to_certify_again(tmp_path):
    """A distance below the reproduce check's tolerance passes it; with no record of the
    distances the check says the store predates them and how large they are."""
    noise = GeneralizedGaussian.matched(0.25, DIM, k=8.0)
    store = _counts_store(tmp_path / "s.sqlite", noise)
    certify_store(store, ["functional"], ["l2"], [0.001], progress=False)
    assert (
        "records no law distances" not in check_reproducible(SanityInputs.from_store(store)).summary
    )
    store.put_manifest({"law_distances": {}})  # as a store certified before them
    result = check_reproducible(SanityInputs.from_store(store))
    store.close()
    assert result.status == "pass", result.line()
    assert "records no law distances" in result.summary
    assert f"up to {noise.law_distance():.2g}" in result.summary


def test_a_resumed_run_keeps_the_larger_distance_an_earlier_session_recorded(
    tmp_path, stated, monkeypatch
):
    """The record was overwritten by the resuming session's table: counts drawn through
    an earlier table that stated more were then certified at this code's smaller distance."""
    from harness import runner
    from harness.config import parse
    from harness.store import Store

    cfg = parse({
        "run": {"name": "t", "dataset": "digits", "seed": 1, "n_test": 2, "n0": 10, "n": 100},
        "models": [{"recipe": "mlp", "sigma0": 0.25}],
        "noises": [{"family": "stated_gaussian"}],
        "certify": {"certifiers": ["cohen-on-stated"], "norms": ["l2"], "alpha": [0.001]},
    })  # fmt: skip
    path = tmp_path / "s.sqlite"
    runner.run(cfg, path, progress=False, certify=False)
    with Store(path) as st:
        (name,) = st.get_manifest("noise_approximations")
        assert st.get_manifest("noise_approximations")[name] == {"test table": {"tv_bound": 0.02}}
        earlier = {"earlier table": {"tv_bound": 0.05}}
        st.put_manifest({"noise_approximations": {name: earlier}})  # its first session's
    runner.run(cfg, path, progress=False)  # resumed: its draws are in the store
    with Store(path, readonly=True) as st:
        assert st.get_manifest("noise_approximations") == {name: earlier}
        assert st.get_manifest("law_distances") == {name: 0.05}
    monkeypatch.setattr(StatedGaussian, "stated", {"tv_bound": 0.08})  # a later table: more
    runner.run(cfg, path, progress=False)
    with Store(path, readonly=True) as st:
        assert st.get_manifest("noise_approximations") == {name: {"test table": {"tv_bound": 0.08}}}


@pytest.mark.parametrize("record", [0.05, "table", ["t"]])
def test_a_record_that_is_no_table_of_bounds_is_refused_and_kept(tmp_path, stated, record):
    """It crashed the resume of the run (no ``items``); certify refuses it as it refuses a
    table without a bound."""
    from harness.runner import _kept_approximations

    current = {stated.name: {"test table": {"tv_bound": 0.02}}}
    assert _kept_approximations({stated.name: record}, current) == {stated.name: record}
    store = _counts_store(tmp_path / "s.sqlite", stated)
    store.put_manifest({"noise_approximations": {stated.name: record}})
    with pytest.raises(CertificationError, match="no table of stated bounds"):
        certify_store(store, ["cohen-on-stated"], ["l2"], [0.001], progress=False)
    store.close()
