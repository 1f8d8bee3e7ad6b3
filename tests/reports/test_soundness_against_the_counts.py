"""The soundness gate checked each radius at the p_A stored beside it, never whether the
stored counts can give that p_A: an altered store holding p_A = 0.9999 (and Cohen's
radius there) for 1,000 draws, where no count certifies above alpha^(1/1000) = 0.99312,
passed it, and its row led the headline. The bound here is scipy's Clopper-Pearson
quantile of the counts, independent of the code under test."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import beta, norm

from harness.store import StoreError
from reports.sanity import FAIL, INCOMPLETE, PASS, SanityContext, SanityInputs
from reports.sanity.soundness import Soundness
from tests.reports._report_synth import ALPHA, N, winner_store


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "s.sqlite"
    winner_store(path, n_images=40).close()
    return path


def _gate(path):
    return Soundness().run(SanityInputs.from_store(path), SanityContext())


def _a_certified_image(path) -> tuple[int, float, float]:
    """An image Cohen certifies on m-win: its index, stored p_A and the Clopper-Pearson
    bound of its estimation counts at its predicted class."""
    with sqlite3.connect(path) as db:
        image, prediction, p = db.execute(
            "SELECT image, prediction, p_lower FROM certificates WHERE model = 'm-win' "
            "AND correct = 1 AND p_lower > 0.5 ORDER BY image LIMIT 1"
        ).fetchone()
        (blob,) = db.execute(
            "SELECT estimation FROM counts WHERE model = 'm-win' AND image = ?", (image,)
        ).fetchone()
    counts = np.array(json.loads(blob))
    assert counts.sum() == N
    k = int(counts[prediction])
    return image, p, float(beta.ppf(ALPHA, k, N - k + 1)) if k < N else ALPHA ** (1 / N)


def _alter(path, image: int, assignment: str, *args) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            f"UPDATE certificates SET {assignment} WHERE model = 'm-win' AND image = ?",
            (*args, image),
        )


def test_the_unaltered_store_and_a_lower_p_pass(store):
    assert _gate(store).status == PASS
    image, p, bound = _a_certified_image(store)
    assert p == pytest.approx(bound, rel=1e-9)  # the stored p_A is the counts' bound
    _alter(store, image, "p_lower = ?, radius = ?", p - 0.01, 0.25 * norm.ppf(p - 0.01))
    assert _gate(store).status == PASS  # conservative: still a certificate


def test_a_p_above_what_the_counts_give_is_unsound(store):
    image, _, bound = _a_certified_image(store)
    high = 0.9999
    assert high > ALPHA ** (1 / N) >= bound
    _alter(store, image, "p_lower = ?, radius = ?", high, 0.25 * norm.ppf(high))
    gate = _gate(store)
    assert gate.status == FAIL, gate.line()
    assert ("m-win", "cohen") in {(row[3], row[5]) for row in gate.affected}
    assert any("Clopper-Pearson bound of the stored counts" in d for d in gate.details)


def test_a_p_just_above_the_counts_bound_is_unsound(store):
    image, _, bound = _a_certified_image(store)
    _alter(store, image, "p_lower = ?", bound + 1e-6)  # its radius unchanged: below Cohen's
    assert _gate(store).status == FAIL


#: Changes of a misclassified image's row (label ``image % 10``, counts' top class the
#: next one): another wrong class, its label claimed as certified, or only the flag.
CHANGES = {
    "prediction": "prediction = (image + 2) % 10",
    "claimed": "prediction = image % 10, correct = 1",
    "correct": "correct = 1",
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_prediction_or_correctness_other_than_the_counts_is_unsound(store, change):
    with sqlite3.connect(store) as db:
        image, prediction = db.execute(
            "SELECT image, prediction FROM certificates WHERE model = 'm-win' AND correct = 0 "
            "ORDER BY image LIMIT 1"
        ).fetchone()
    assert prediction == (image + 1) % 10
    _alter(store, image, CHANGES[change])
    gate = _gate(store)
    assert gate.status == FAIL, gate.line()
    assert any(f"at image {image}" in d for d in gate.details), gate.details


def test_a_row_with_an_image_of_no_counts_is_not_taken_as_sound(store):
    """(A report reads only the certificates of images with counts; inputs built
    otherwise can lack some.)"""
    image, _, _ = _a_certified_image(store)
    inputs = SanityInputs.from_store(store)
    counts = inputs.counts
    inputs.counts = counts[~((counts["model"] == "m-win") & (counts["image"] == image))]
    gate = Soundness().run(inputs, SanityContext())
    assert gate.status == INCOMPLETE, gate.line()
    assert {(row[3], row[5]) for row in gate.unchecked} == {("m-win", "cohen")}


TV = 0.02  # a law distance as a sampling table may state: wide enough to fall into


def _tabulated_store(path, tops: np.ndarray, recorded: bool = True):
    """A Gaussian noise whose run recorded a sampling table of total variation ``TV``
    (``certify`` subtracts it from every p_A), ``tops`` draws of 1,000 on each image's
    label, certified by Cohen's."""
    from harness.certify import certify_store
    from harness.noise import Gaussian
    from tests.reports._report_synth import DIM, N_CLASSES, add_counts, new_store

    noise = Gaussian(0.25, DIM)
    table = {noise.name: {"sampling table": {"tv_bound": TV}}}
    store = new_store(path, len(tops), {"m": 0.25}, noise_approximations=table)
    labels = np.arange(len(tops)) % N_CLASSES
    add_counts(store, "m", noise, labels, labels, tops)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    if not recorded:  # as a store certified before law distances were subtracted
        store.put_manifest({"law_distances": {}})
    store.close()
    return noise


def test_an_abstention_within_the_law_distance_is_sound(tmp_path):
    """Images whose Clopper-Pearson bound lies in (1/2, 1/2 + TV]: certify abstains there
    (its p_A is the bound less TV). Expecting the top class there called Cohen unsound."""
    tops = np.full(20, 990)
    tops[:5] = 560
    assert 0.5 < beta.ppf(ALPHA, 560, N - 560 + 1) <= 0.5 + TV
    _tabulated_store(tmp_path / "s.sqlite", tops)
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        assert db.execute("SELECT prediction FROM certificates WHERE image = 0").fetchone() == (-1,)
    assert _gate(tmp_path / "s.sqlite").status == PASS


def test_a_p_raised_by_less_than_the_law_distance_is_unsound(tmp_path):
    path = tmp_path / "s.sqlite"
    _tabulated_store(path, np.full(20, 990))
    with sqlite3.connect(path) as db:
        (p,) = db.execute("SELECT p_lower FROM certificates WHERE image = 3").fetchone()
        db.execute("UPDATE certificates SET p_lower = ? WHERE image = 3", (p + TV / 2,))
    assert _gate(path).status == FAIL


def test_a_store_certified_before_law_distances_were_recorded_is_held_to_the_bound(tmp_path):
    """Its p_A are the Clopper-Pearson bounds themselves (nothing was subtracted)."""
    path = tmp_path / "s.sqlite"
    _tabulated_store(path, np.full(20, 990), recorded=False)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE certificates SET p_lower = p_lower + ?", (TV,))
    assert _gate(path).status == PASS
    with sqlite3.connect(path) as db:
        db.execute("UPDATE certificates SET p_lower = p_lower + ? WHERE image = 3", (1e-6,))
    assert _gate(path).status == FAIL


def test_a_p_lowered_to_one_half_keeps_its_prediction_and_an_abstention_claims_nothing(store):
    """Both are conservative: the counts still give the prediction (the radius is 0 there),
    and an abstention is never counted as certified."""
    image, _, _ = _a_certified_image(store)
    _alter(store, image, "p_lower = 0.5, radius = 0")
    assert _gate(store).status == PASS
    _alter(store, image, "prediction = -1, correct = 0, radius = 0")
    assert _gate(store).status == PASS


def _alphas(path) -> set[float]:
    with sqlite3.connect(path) as db:
        return {a for (a,) in db.execute("SELECT DISTINCT alpha FROM certificates")}


def test_a_partial_certify_of_an_older_store_drops_rows_of_another_distance(tmp_path):
    """Certified before law distances were subtracted (p_A the bounds themselves, no
    record): a certify of another alpha records the distance; the older rows stayed beside
    it, and the gate held them to it and called their certifier unsound."""
    from harness.certify import certify_store
    from harness.store import Store

    path = tmp_path / "s.sqlite"
    _tabulated_store(path, np.full(20, 990), recorded=False)
    with sqlite3.connect(path) as db:  # as the older code wrote them
        db.execute("UPDATE certificates SET p_lower = p_lower + ?", (TV,))
    assert _gate(path).status == PASS
    with Store(path) as st:
        certify_store(st, ["cohen"], ["l2"], [0.01], progress=False)
    assert _alphas(path) == {0.01}  # made at another distance: dropped, to certify again
    assert _gate(path).status == PASS


def test_a_partial_certify_keeps_the_older_rows_of_an_exact_noise(tmp_path):
    from harness.certify import certify_store
    from harness.noise import Gaussian
    from tests.reports._report_synth import DIM, add_counts, new_store

    path = tmp_path / "s.sqlite"
    store = new_store(path, 10, {"m": 0.25})
    labels = np.arange(10) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, np.full(10, 990))
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    store.put_manifest({"law_distances": {}})  # before the record: distance 0 all the same
    certify_store(store, ["cohen"], ["l2"], [0.01], progress=False)
    store.close()
    assert _alphas(path) == {ALPHA, 0.01}


@pytest.mark.parametrize("record", [-1.0, 1.5, "x", None])
def test_a_law_distance_record_certify_never_writes_leaves_the_rows_unchecked(tmp_path, record):
    """It was read as 0: p_A raised by almost the run's stated distance passed. The store
    refuses to hand such a record out; inputs built without a store leave the rows
    unchecked."""
    path = tmp_path / "s.sqlite"
    noise = _tabulated_store(path, np.full(20, 990))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE certificates SET p_lower = p_lower + ?", (0.99 * TV,))
    inputs = SanityInputs.from_store(path)
    records = {noise.name: record} if record is not None else [TV]
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE manifest SET value = ? WHERE key = 'law_distances'", (json.dumps(records),)
        )
    with pytest.raises(StoreError, match="law_distances is damaged"):
        SanityInputs.from_store(path)
    gate = Soundness().run(replace(inputs, law_distances=records), SanityContext())
    assert gate.status == INCOMPLETE, gate.line()
    assert "law distance record" in next(iter(gate.unchecked.values()))
