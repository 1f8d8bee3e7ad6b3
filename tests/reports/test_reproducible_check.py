"""reports.sanity.reproducible: every alpha and every image of a row is recomputed."""

from __future__ import annotations

import numpy as np

from harness.certify import certify_store
from harness.store import CertificateRow
from reports.sanity import FAIL, PASS, SanityInputs
from reports.sanity.reproducible import check_reproducible
from tests.reports._report_synth import cohen_by_hand, winner_store

ALPHAS = (0.001, 0.05)


def test_a_store_certified_at_two_alphas_reproduces(tmp_path):
    """Each alpha has its own Clopper-Pearson bound: an untouched store certified at two
    alphas reproduces (p_lower at 0.05 is above that at 0.001, so mixing them fails)."""
    with winner_store(tmp_path / "s.sqlite") as store:
        certify_store(store, ["cohen"], ["l2"], list(ALPHAS), progress=False)
        inputs = SanityInputs.from_store(store)
    out = inputs.outcomes
    by_alpha = out.groupby("alpha")["p_lower"].mean()
    assert set(by_alpha.index) == set(ALPHAS) and by_alpha[0.05] > by_alpha[0.001]
    res = check_reproducible(inputs)
    assert res.status == PASS, res.summary


def test_the_last_image_of_a_row_is_checked_too(tmp_path):
    """A radius tampered on the largest image index of a row (not the first) fails it."""
    with winner_store(tmp_path / "s.sqlite") as store:
        rows = [r for r in store.table_rows("certificates") if r[8] > 0 and r[0] == "m-win"]
        last = max(rows, key=lambda r: r[2])
        (m, nz, img, cert, norm, alpha, pred, p, r, correct, spent) = last
        store.put_certificates(
            [CertificateRow(m, nz, img, cert, norm, alpha, pred, p, r * 1.01, correct, spent)]
        )
        res = check_reproducible(SanityInputs.from_store(store))
    assert res.status == FAIL
    assert res.affected == {("synthetic", norm, alpha, m, nz, cert)}


def test_the_top_class_is_selected_from_the_selection_counts(tmp_path):
    """Cohen's CERTIFY selects the class from the n0 selection draws and bounds it from
    the n estimation draws: on images where the two disagree (selection: class 0 with
    all 100 draws; estimation: 700 of 1000 on class 1, 300 on class 0) the stored
    certificate abstains (p_lower of class 0 is the Clopper-Pearson bound of 300/1000,
    below 1/2). Recomputing the selection from the estimation counts would predict
    class 1 with p_lower about 0.65 instead: the check must recompute the former."""
    from scipy.stats import beta

    from harness.noise import Gaussian
    from harness.store import CountRow
    from tests.reports._report_synth import ALPHA, DIM, N0, N_CLASSES, N, new_store

    store = new_store(tmp_path / "s.sqlite", 10, {"m": 0.25})
    noise = Gaussian(0.25, DIM)
    store.put_noises({noise.name: noise.spec()})
    rows = []
    for i in range(10):
        sel = np.zeros(N_CLASSES, dtype=np.int64)
        est = np.zeros(N_CLASSES, dtype=np.int64)
        if i < 5:  # selection and estimation disagree
            sel[0], est[0], est[1] = N0, 300, 700
        else:
            sel[1], est[1], est[0] = N0, 900, 100
        rows.append(CountRow("m", noise.name, i, 1, sel, est, 0.01))
    store.put_counts(rows)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    with store:
        inputs = SanityInputs.from_store(store)
    out = inputs.outcomes.sort_values("image")
    want = beta.ppf(ALPHA, [300] * 5 + [900] * 5, [N - 300 + 1] * 5 + [N - 900 + 1] * 5)
    np.testing.assert_allclose(out["p_lower"].to_numpy(), want, rtol=1e-9)
    assert check_reproducible(inputs).status == PASS


def _tampered_first(store, **change):
    rows = [r for r in store.table_rows("certificates") if r[8] > 0 and r[3] == "cohen"]
    (m, nz, img, cert, norm, alpha, pred, p, r, correct, spent) = rows[0]
    p = change.get("p", lambda v: v)(p)
    r = change.get("r", lambda v: v)(r)
    store.put_certificates(
        [CertificateRow(m, nz, img, cert, norm, alpha, pred, p, r, correct, spent)]
    )
    return ("synthetic", norm, alpha, m, nz, cert)


def test_a_p_lower_off_by_1e_4_fails(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        row = _tampered_first(store, p=lambda v: v - 1e-4)
        res = check_reproducible(SanityInputs.from_store(store))
    assert res.status == FAIL and res.affected == {row}


def test_a_failing_check_still_lists_the_rows_it_could_not_check(tmp_path):
    """Rows of a certifier not registered here cannot be reproduced: they are listed in
    ``unchecked`` whether or not another row fails."""

    from tests.reports._report_synth import copy_certificates

    with winner_store(tmp_path / "s.sqlite") as store:
        copy_certificates(store, "cohen", "test-unregistered", cohen_by_hand)
        clean = check_reproducible(SanityInputs.from_store(store))
        row = _tampered_first(store, r=lambda v: v + 0.1)
        res = check_reproducible(SanityInputs.from_store(store))
    unreg = {key for key in clean.unchecked if key[5] == "test-unregistered"}
    assert len(unreg) == 3  # one row per model
    assert res.status == FAIL and res.affected == {row}
    assert set(res.unchecked) == unreg
