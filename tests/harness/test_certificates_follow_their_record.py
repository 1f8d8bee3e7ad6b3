"""Every stored certificate is the one today's record makes: after a certify under other
certifier options or another law distance, no certificate made the old way stays (at an
alpha the new certify did not ask for, say) under a manifest that records the new way.

The check is independent of how the store decides: a copy of the store certified again
at every stored (certifier, norm, alpha) must hold each stored certificate unchanged."""

from __future__ import annotations

import shutil

import numpy as np

from harness.certify import certify_store
from harness.noise.gaussian import Gaussian
from harness.store import AuditRow, CertificateRow, CountRow, Store

MIXED = {"family": "mixed_norm", "params": {"dim": 8, "k": 4.0, "sigma": 0.25}}
SMALL_TABLE = {"functional": {"mc_samples": 2000, "mc_grid": 20}}
GAUSSIAN = {"family": "gaussian", "params": {"dim": 8, "sigma": 0.25}}


def counts_store(path) -> None:
    with Store(path) as st:
        st.put_manifest({"n0": 10, "n": 1000, "seed": 0, "dataset": "digits"})
        st.put_noises({"mixed": MIXED, "gauss": GAUSSIAN})
        st.put_counts(
            CountRow("m", noise, i, 0, np.array([10, 0]), np.array([990 - 5 * i, 10 + 5 * i]), 0.1)
            for noise in ("mixed", "gauss")
            for i in range(6)
        )


def certificates(path) -> list[tuple]:
    with Store(path) as st:
        return sorted(st.table_rows("certificates"))


def certified_again(path, tmp_path) -> list[tuple]:
    """The copy of the store certified again, with the recorded options, at every
    stored (certifier, norm, alpha)."""
    copy = tmp_path / "again.sqlite"
    shutil.copy(path, copy)
    with Store(copy) as st:
        options = st.get_manifest("certifier_options") or {}
        for certifier, norm, alpha in st.query(
            "SELECT DISTINCT certifier, norm, alpha FROM certificates"
        ):
            certify_store(st, [certifier], [norm], [alpha], progress=False, options=options)
    return certificates(copy)


def test_other_options_leave_no_certificate_made_with_the_old_ones(tmp_path):
    path = tmp_path / "s.sqlite"
    counts_store(path)
    with Store(path) as st:
        coarse = SMALL_TABLE
        certify_store(st, ["functional"], ["linf"], [0.001, 0.01], False, options=coarse)
        made_coarse = sorted(st.table_rows("certificates"))
        st.put_audit(
            [AuditRow("statistical", "functional", "mixed", "linf", "m", 1, 0, 0.0, 0.0,
                      1.0, 0.0, None, True, {})]
        )  # fmt: skip
        fine = {"functional": {"mc_samples": 20000, "mc_grid": 20}}
        certify_store(st, ["functional"], ["linf"], [0.001], False, options=fine)
        assert st.get_manifest("certifier_options")["functional"]["mc_samples"] == 20000
        assert st.table_rows("audit") == []  # it spoke of the dropped certificates
    after = certificates(path)
    assert after != made_coarse  # the options change the radii, or the test says nothing
    assert after and set(after) <= set(certified_again(path, tmp_path))


def test_the_same_options_keep_the_other_alphas(tmp_path):
    path = tmp_path / "s.sqlite"
    counts_store(path)
    options = SMALL_TABLE
    with Store(path) as st:
        certify_store(st, ["functional"], ["linf"], [0.001, 0.01], False, options=options)
        certify_store(st, ["functional"], ["linf"], [0.001], False, options=options)
        alphas = {a for (a,) in st.query("SELECT DISTINCT alpha FROM certificates")}
    assert alphas == {0.001, 0.01}


def test_another_law_distance_leaves_no_certificate_made_with_the_old_one(tmp_path, monkeypatch):
    """Code that bounded the Gaussian's law distance otherwise (as an older table could)
    made the first certificates; the certify of today's code at one alpha drops the
    others of that noise, and only those (the mixed-norm rows keep theirs)."""
    path = tmp_path / "s.sqlite"
    counts_store(path)
    with Store(path) as st:
        with monkeypatch.context() as patch:
            patch.setattr(Gaussian, "sampled_law_distance", lambda self, recorded: 0.004)
            certify_store(st, ["cohen"], ["l2"], [0.001, 0.01], progress=False)
            certify_store(st, ["functional"], ["linf"], [0.01], False, options=SMALL_TABLE)
        made_before = sorted(st.table_rows("certificates"))
        certify_store(st, ["cohen"], ["l2"], [0.001], progress=False)
        assert st.get_manifest("law_distances")["gauss"] == 0.0
        kept = {(n, a) for n, a in st.query("SELECT DISTINCT noise, alpha FROM certificates")}
    after = certificates(path)
    assert kept == {("gauss", 0.001), ("mixed", 0.01)} and after != made_before
    assert [r for r in made_before if r[1] == "mixed"] == [r for r in after if r[1] == "mixed"]
    assert set(after) <= set(certified_again(path, tmp_path))


def test_an_alpha_named_twice_is_certified_and_counted_once(tmp_path):
    path = tmp_path / "s.sqlite"
    counts_store(path)
    with Store(path) as st:
        twice = certify_store(st, ["cohen"], ["l2", "l2"], [0.01, 0.01], progress=False)
        once = st.query("SELECT COUNT(*) FROM certificates")[0][0]
    assert twice == once == 6  # the six Gaussian images, once each


def test_other_options_drop_that_certifiers_rows_and_audit_in_one_step(tmp_path):
    """The drop goes with the manifest's update, so that a certify stopped just after it
    leaves fewer rows, never old rows (or an audit of them) under new options; another
    certifier's rows stay."""
    counts_store(tmp_path / "s.sqlite")
    with Store(tmp_path / "s.sqlite") as st:
        assert st.record_certifier_options({"functional": {"mc_samples": 10}, "other": {}}) == []
        st.put_certificates(
            CertificateRow("m", "mixed", 0, name, "linf", 0.01, 0, 0.9, 0.1, True, 0.0)
            for name in ("functional", "other")
        )
        st.put_audit(
            [AuditRow("statistical", name, "mixed", "linf", "m", 1, 0, 0.0, 0.0, 1.0, 0.0,
                      None, True, {}) for name in ("functional", "other")]
        )  # fmt: skip
        assert st.record_certifier_options({"functional": {"mc_samples": 10}}) == []
        assert st.record_certifier_options({"functional": {"mc_samples": 20}}) == ["functional"]
        left = {r[3] for r in st.table_rows("certificates")}, {r[1] for r in st.table_rows("audit")}
        assert left == ({"other"}, {"other"})
        assert st.get_manifest("certifier_options") == {
            "functional": {"mc_samples": 20},
            "other": {},
        }
