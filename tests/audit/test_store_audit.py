"""The store's ``audit`` table (schema 3): written whole, replaced by a new audit, read
back as written, absent (and empty) in a version-2 store until it is opened for writing,
which migrates it."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from harness.store import SCHEMA_VERSION, AuditRow, CountRow, Store


def _row(certifier: str = "cohen", failures: int = 3, passed: bool = True) -> AuditRow:
    return AuditRow("statistical", certifier, "gaussian(dim=3,sigma=0.5)", "l2", "linear",
                    100, failures, 0.2, 0.0, 0.5, 0.31, 0.4, passed, {"quick": True})  # fmt: skip


def test_rows_round_trip_and_a_new_audit_replaces_the_old(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store(path) as st:
        assert st.audit_rows() == []
        st.put_audit([_row("cohen"), _row("wulff", passed=False)])
        st.put_audit([_row("cohen", failures=5)])
    with Store.open_existing(path, readonly=True) as st:
        assert st.audit_rows() == [_row("cohen", failures=5)]


def test_invalid_rows_are_refused():
    with pytest.raises(ValueError, match="failures"):
        _row(failures=101)
    with pytest.raises(ValueError, match="p_value"):
        AuditRow("attack", "c", "n", "l2", "m", 1, 0, 0.1, 0.0, float("nan"), None, None, True, {})


def test_a_version_2_store_reads_as_not_audited_and_migrates(tmp_path):
    assert SCHEMA_VERSION == 3
    path = tmp_path / "s.sqlite"
    with Store(path) as st:
        st.put_manifest({"n0": 10, "n": 100})
        st.put_noises({"g": {"family": "gaussian", "params": {"sigma": 0.5, "dim": 4}}})
        st.put_counts([CountRow("m", "g", 0, 0, np.array([10, 0]), np.array([90, 10]), 0.1)])
    db = sqlite3.connect(path)
    db.execute("DROP TABLE audit")
    db.execute("UPDATE manifest SET value = ? WHERE key = 'schema_version'", (json.dumps(2),))
    db.commit()
    db.close()
    with Store.open_existing(path, readonly=True) as st:
        assert not st.has_table("audit") and st.audit_rows() == []
    with Store(path) as st:
        assert st.get_manifest("schema_version") == 3 and st.has_table("audit")
        st.put_audit([_row()])
        assert len(st.audit_rows()) == 1


def _certificate(image: int, certifier: str = "cohen", radius: float = 0.3, alpha=0.001):
    from harness.store import CertificateRow

    return CertificateRow("m", "g", image, certifier, "l2", alpha, 1, 0.9, radius, True, 0.0)


def test_certificates_written_again_keep_the_audit_and_changed_ones_drop_theirs(tmp_path):
    """The audit of a (certifier, norm) speaks of its stored certificates: writing the same
    ones again keeps it; a changed radius, a new image or a new alpha of one certifier
    drops that certifier's audit only."""
    with Store(tmp_path / "s.sqlite") as st:
        st.put_noises({"g": {"family": "gaussian", "params": {"sigma": 0.5, "dim": 4}}})
        st.put_counts(
            [CountRow("m", "g", i, 1, np.array([0, 10]), np.array([10, 90]), 0.1) for i in range(4)]
        )
        rows = [_certificate(i, c) for i in range(3) for c in ("cohen", "wulff")]
        st.put_certificates(rows)
        audited = [_row("cohen"), _row("wulff")]
        for change, dropped in [
            ([], set()),
            ([_certificate(1, "cohen", radius=0.31)], {"cohen"}),
            ([_certificate(3, "wulff")], {"wulff"}),
            ([_certificate(0, "cohen", alpha=0.01)], {"cohen"}),
        ]:
            st.put_audit(audited)
            st.put_certificates(rows + change)
            assert {r.certifier for r in st.audit_rows()} == {"cohen", "wulff"} - dropped
            rows = [r for r in rows if (r.image, r.certifier, r.alpha) not in
                    {(c.image, c.certifier, c.alpha) for c in change}] + change  # fmt: skip
