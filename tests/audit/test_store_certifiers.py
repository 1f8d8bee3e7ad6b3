"""What the audit of a store audits: the store's own certifiers (those of its
certificates, or of its config while it holds none), never a plugin loaded beside them,
whose failure would otherwise fail a store that holds none of its certificates; and the
store's own noises beside the audit noises, so that a radius wrong only at the store's
dimension or shape parameters is seen."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from certifiers.base import Certificate, Certifier
from harness.audit import run
from harness.audit.run import (
    AuditSettings,
    audit_store,
    statistical_rows,
    store_certifiers,
    store_noises,
)
from harness.audit.statistical import STORE_DIM_CAP, StatisticalSettings
from harness.certify import certify_store
from harness.noise import Gaussian
from harness.store import CertificateRow, CountRow, Store

SPEC = {"family": "gaussian", "params": {"sigma": 0.5, "dim": 4}}


def _store(path, config=None) -> Store:
    st = Store(path)
    st.put_manifest({"n0": 10, "n": 100, **({"config": config} if config else {})})
    st.put_noises({"g": SPEC})
    st.put_counts([CountRow("m", "g", 0, 0, np.array([10, 0]), np.array([95, 5]), 0.1)])
    return st


def test_the_stores_own_certifiers_and_not_a_plugin_beside_them(tmp_path, double_cohen):
    with _store(tmp_path / "s.sqlite") as st:
        certify_store(st, ["cohen", "wulff"], ["l2"], [0.001], progress=False)
        st.put_certificates(
            [CertificateRow("m", "g", 0, "gone", "l2", 0.001, 0, 0.9, 0.1, True, 0)]
        )
        assert store_certifiers(st) == ["cohen", "wulff"]  # "gone": no plugin here


def test_a_store_without_certificates_audits_its_configs(tmp_path, double_cohen):
    config = {"certify": {"certifiers": ["wulff", "cohen"]}}
    with _store(tmp_path / "s.sqlite", config) as st:
        assert store_certifiers(st) == ["wulff", "cohen"]


def test_audit_store_audits_them_by_default(tmp_path, monkeypatch, double_cohen):
    asked, noises = [], []

    def capture(settings, names, progress, options, store_noises):
        asked.append(names)
        noises.append([nz.name for nz in store_noises])
        return []

    monkeypatch.setattr(run, "statistical_rows", capture)
    monkeypatch.setattr(run, "load_models", lambda store: ([], None))
    monkeypatch.setattr(run, "attack_rows", lambda *a: [])
    monkeypatch.setattr(run, "deterministic_rows", lambda *a: [])
    with _store(tmp_path / "s.sqlite") as st:
        certify_store(st, ["cohen"], ["l2"], [0.001], progress=False)
        audit_store(st, AuditSettings.make(quick=True), progress=False)
        audit_store(st, AuditSettings.make(quick=True), [double_cohen], progress=False)
    assert asked == [["cohen"], [double_cohen]]
    assert noises == [["gaussian(dim=4,sigma=0.5)"]] * 2


def test_the_stores_noises_up_to_the_dim_cap(tmp_path):
    big = {"family": "gaussian", "params": {"sigma": 0.5, "dim": STORE_DIM_CAP + 1}}
    unknown = {"family": "not-loaded-here", "params": {"dim": 4}}
    with _store(tmp_path / "s.sqlite") as st:
        st.put_noises({"big": big, "gone": unknown})
        assert [nz.name for nz in store_noises(st)] == ["gaussian(dim=4,sigma=0.5)"]


def _capped_linf(certifier, noise, p):
    return noise.sigma * ndtri(p) / np.sqrt(min(noise.dim, 8))


class CappedLinf(Certifier):
    """Cohen et al.'s l-inf radius ``sigma Phi^-1(p) / sqrt(d)`` with ``d`` capped at 8:
    right at the audit noises' dims (2, 4, 8), sqrt(64 / 8) = 2.83 times too large at the
    digits store's 64 (the diagonal half-space's exact radius is Cohen's)."""

    certificates = {("gaussian", "linf"): Certificate(_capped_linf)}


def test_a_radius_wrong_only_at_the_stores_dim_fails_on_the_stores_noise(plugins):
    plugins.certifier("capped-linf", CappedLinf)
    settings = StatisticalSettings.quick()
    store_noise = Gaussian(0.25, 64)
    alone = statistical_rows(settings, ["capped-linf"], False)
    assert alone and all(r.passed for r in alone)  # the audit noises cannot see it
    rows = statistical_rows(settings, ["capped-linf"], False, None, [store_noise])
    mine = [r for r in rows if r.noise == store_noise.name]
    assert len(mine) == 1 and not mine[0].passed
