"""What the store accepts and keeps: rows refuse inconsistent values themselves (whatever
wrote them: the sampler, an importer, a plugin's executor), a noise's spec once stored
stays the one its counts were drawn with, certifying again replaces the certificates, and
an image counts as deterministically done only with a radius and every eps of the grid."""

from __future__ import annotations

import math
import sqlite3

import numpy as np
import pytest

from harness.certify import certify_store
from harness.store import (
    AuditRow,
    CountRow,
    DeterministicRadiusRow,
    DeterministicRow,
    ImportedRow,
    Store,
)
from tests.harness._stores import SPEC, counts_store

SELECTION, ESTIMATION = np.array([10, 0, 0]), np.array([90, 6, 4])


def test_a_count_row_label_is_one_of_its_classes():
    CountRow("m", "g", 0, 2, SELECTION, ESTIMATION, 0.1)  # the last class
    with pytest.raises(ValueError, match="outside the 3 classes"):
        CountRow("m", "g", 0, 3, SELECTION, ESTIMATION, 0.1)


def test_a_count_rows_selection_and_estimation_share_their_classes():
    with pytest.raises(ValueError, match="same classes"):
        CountRow("m", "g", 0, 0, np.array([10, 0]), ESTIMATION, 0.1)


def _imported(**changes) -> ImportedRow:
    row = dict(dataset="digits", model="m", noise="g", certifier="cohen", norm="l2",
               alpha=0.001, image=0, label=1, prediction=1, radius=0.5, correct=True,
               seconds=0.1, source="f.tsv")  # fmt: skip
    return ImportedRow(**{**row, **changes})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"radius": math.inf}, "finite"),
        ({"radius": math.nan}, "finite"),
        ({"prediction": -1, "radius": 0.3, "correct": False}, "abstains"),
        ({"prediction": 2, "correct": True}, "correct is 1"),
        ({"prediction": 1, "correct": False}, "correct is 0"),
        ({"prediction": -2, "radius": 0.0, "correct": False}, "prediction -1 for abstain"),
    ],
)
def test_an_imported_row_refuses_inconsistent_values(changes, message):
    _imported()
    with pytest.raises(ValueError, match=message):
        _imported(**changes)


def test_an_audit_row_refuses_a_p_value_above_one():
    AuditRow("attack", "c", "n", "l2", "m", 1, 0, 0.1, 0.0, 1.0, None, None, True, {})
    with pytest.raises(ValueError, match="p_value"):
        AuditRow("attack", "c", "n", "l2", "m", 1, 0, 0.1, 0.0, 1.5, None, None, True, {})


def test_a_noise_spec_once_stored_is_never_replaced(tmp_path):
    with Store(tmp_path / "s.sqlite") as st:
        st.put_noises({"g": SPEC})
        st.put_noises({"g": {"family": "gaussian", "params": {"sigma": 0.9, "dim": 4}}})
        assert st.noise_specs() == {"g": SPEC}


def test_certifying_again_replaces_the_stored_certificates(tmp_path):
    path = tmp_path / "s.sqlite"
    counts_store(path, images=6)
    with Store(path) as st:
        certify_store(st, ["cohen"], ["l2"], [0.001], progress=False)
        fresh = st.table_rows("certificates")
    db = sqlite3.connect(path)
    db.execute("UPDATE certificates SET radius = 123.0, p_lower = 0.999")  # stale rows
    db.commit()
    db.close()
    with Store(path) as st:
        certify_store(st, ["cohen"], ["l2"], [0.001], progress=False)
        assert st.table_rows("certificates") == fresh


def test_deterministic_done_needs_a_radius_and_every_eps_of_the_grid(tmp_path):
    """A resumed run whose eps grid grew certifies its images again at the new eps."""

    def certificate(image: int, eps: float) -> DeterministicRow:
        return DeterministicRow("m", image, "ibp", "linf", eps, True, 0.1, 0.0)

    def radius(image: int) -> DeterministicRadiusRow:
        return DeterministicRadiusRow("m", image, "ibp", "linf", 1, 1, 0.2, 0.0)

    with Store(tmp_path / "s.sqlite") as st:
        st.put_deterministic(
            [certificate(0, 0.1), certificate(0, 0.2), certificate(1, 0.1)]
            + [certificate(2, 0.1), certificate(2, 0.2)],
            [radius(0), radius(1)],  # image 2: certificates but no radius
        )
        assert st.deterministic_done("m", "ibp", "linf", [0.1, 0.2]) == {0}
        assert st.deterministic_done("m", "ibp", "linf", [0.1]) == {0, 1}
        assert st.deterministic_done("m", "crown", "linf", [0.1]) == set()
