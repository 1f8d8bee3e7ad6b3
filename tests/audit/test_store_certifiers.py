"""Which certifiers the audit of a store audits: the store's own (those of its
certificates, or of its config while it holds none), never a plugin loaded beside them,
whose failure would otherwise fail a store that holds none of its certificates."""

from __future__ import annotations

import numpy as np

from harness.audit import run
from harness.audit.run import AuditSettings, audit_store, store_certifiers
from harness.certify import certify_store
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
    asked = []
    monkeypatch.setattr(run, "statistical_rows", lambda s, names, *a: asked.append(names) or [])
    monkeypatch.setattr(run, "load_models", lambda store: ([], None))
    monkeypatch.setattr(run, "attack_rows", lambda *a: [])
    monkeypatch.setattr(run, "deterministic_rows", lambda *a: [])
    with _store(tmp_path / "s.sqlite") as st:
        certify_store(st, ["cohen"], ["l2"], [0.001], progress=False)
        audit_store(st, AuditSettings.make(quick=True), progress=False)
        audit_store(st, AuditSettings.make(quick=True), [double_cohen], progress=False)
    assert asked == [["cohen"], [double_cohen]]
