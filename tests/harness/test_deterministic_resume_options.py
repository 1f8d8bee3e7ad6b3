"""A resumed run whose deterministic certifier options changed certifies again: the
stored radii are those of the options the manifest records, as a new store's are."""

from __future__ import annotations

from certifiers.deterministic import IBP
from harness import runner
from harness.config import parse
from harness.store import AuditRow, DeterministicRadiusRow, DeterministicRow, Store

TABLES = ("deterministic_certificates", "deterministic_radii", "audit")


def config(steps: int):
    return parse(
        {
            "run": {"name": "det", "dataset": "digits", "seed": 1, "n_test": 6, "n0": 10,
                    "n": 200, "batch_size": 200},
            "models": [{"recipe": "mlp", "sigma0": 0.25}],
            "noises": [{"family": "gaussian"}],
            "certify": {"certifiers": ["cohen", "ibp"], "alpha": [0.001],
                        "options": {"ibp": {"bisection_steps": steps}}},
            "report": {"radii": {"linf": [0.0, 0.005]}},
        }
    )  # fmt: skip


def deterministic(path):
    with Store(path) as st:
        radii = {r[:4]: r[6] for r in st.table_rows("deterministic_radii")}
        options = st.get_manifest("certifier_options")["ibp"]
    return radii, options


def test_changed_bisection_steps_are_not_resumed_from_the_old_radii(tmp_path):
    resumed = tmp_path / "resumed.sqlite"
    runner.run(config(2), resumed, progress=False)
    coarse, _ = deterministic(resumed)
    runner.run(config(16), resumed, progress=False)
    after, recorded = deterministic(resumed)
    fresh, _ = deterministic(runner.run(config(16), tmp_path / "fresh.sqlite", progress=False))
    assert recorded["bisection_steps"] == 16
    assert coarse != fresh  # the two settings give other radii here, or the test says nothing
    assert after == fresh


def _rows(store: Store, table: str) -> list[tuple]:
    return sorted(store.table_rows(table))


def test_changed_options_drop_that_certifiers_rows_and_audit_in_one_step(tmp_path):
    """The rows of a certifier whose deciding options changed go with the manifest's
    update, so a run stopped just after it resumes from fewer rows, never from old rows
    under new options; other certifiers' rows, and a change of batch_size alone, stay."""
    with Store(tmp_path / "s.sqlite") as st:
        base = {"dtype": "float64", "batch_size": 256, "bisection_steps": 16}
        assert st.record_deterministic_options({"ibp": base, "crown": base}) == []
        for name in ("ibp", "crown"):
            st.put_deterministic(
                [DeterministicRow("m", 0, name, "linf", 0.01, True, 0.5, 0.1)],
                [DeterministicRadiusRow("m", 0, name, "linf", 3, 3, 0.02, 0.1)],
            )
        st.put_audit(
            [AuditRow("deterministic-attack", n, "-", "linf", "m", 1, 0, 0.0, 0.0, 1.0,
                      0.02, None, True, {}) for n in ("ibp", "crown")]
        )  # fmt: skip
        kept = {t: _rows(st, t) for t in TABLES}
        assert st.record_deterministic_options({"ibp": {**base, "batch_size": 8}}) == []
        assert {t: _rows(st, t) for t in TABLES} == kept
        assert st.record_deterministic_options({"ibp": {**base, "bisection_steps": 4}}) == ["ibp"]
        for table in TABLES:
            names = {row[1] if table == "audit" else row[2] for row in _rows(st, table)}
            assert names == {"crown"}, table
        recorded = st.get_manifest("certifier_options")
        assert recorded["ibp"]["bisection_steps"] == 4 and recorded["crown"] == base


def test_another_method_version_drops_the_rows_it_made(tmp_path):
    """Certificates made by another ``method_version`` of a certifier (a store written
    before a fix of the method, or before versions were recorded) are dropped; the same
    version keeps them."""
    options = {"dtype": "float64", "batch_size": 256, "bisection_steps": 16}
    with Store(tmp_path / "s.sqlite") as st:
        st.record_deterministic_options({"ibp": options, "crown": options})  # no versions
        for name in ("ibp", "crown"):
            st.put_deterministic(
                [DeterministicRow("m", 0, name, "linf", 0.01, True, 0.5, 0.1)],
                [DeterministicRadiusRow("m", 0, name, "linf", 3, 3, 0.02, 0.1)],
            )
        both = {"ibp": options, "crown": options}
        assert st.record_deterministic_options(both, {"ibp": 2, "crown": 2}) == ["crown", "ibp"]
        assert _rows(st, "deterministic_radii") == []
        st.put_deterministic([], [DeterministicRadiusRow("m", 0, "ibp", "linf", 3, 3, 0.02, 0.1)])
        assert st.record_deterministic_options(both, {"ibp": 2, "crown": 2}) == []
        assert st.record_deterministic_options(both, {"ibp": 3, "crown": 2}) == ["ibp"]
        assert st.get_manifest("deterministic_versions") == {"ibp": 3, "crown": 2}


def test_a_run_records_each_certifiers_method_version_and_certifies_again_after_a_bump(
    tmp_path, monkeypatch
):
    path = tmp_path / "s.sqlite"
    runner.run(config(4), path, progress=False)
    with Store(path) as st:
        assert st.get_manifest("deterministic_versions") == {"ibp": IBP.method_version}
        with st.transaction() as db:
            db.execute("UPDATE deterministic_radii SET radius = 0.0")  # marks what is kept
    runner.run(config(4), path, progress=False)
    assert set(deterministic(path)[0].values()) == {0.0}  # same version: resumed
    monkeypatch.setattr(IBP, "method_version", IBP.method_version + 1)
    runner.run(config(4), path, progress=False)
    fresh, _ = deterministic(runner.run(config(4), tmp_path / "fresh.sqlite", progress=False))
    assert deterministic(path)[0] == fresh and set(fresh.values()) != {0.0}
