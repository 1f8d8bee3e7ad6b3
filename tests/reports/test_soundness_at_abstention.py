"""The soundness gate holds a certifier to radius 0 at p_lower <= 1/2, where the smoothed
classifier abstains, whatever its noise: rows written by a plugin, imported or altered
that claim more fail it (and so stay out of the ranking's headline)."""

from __future__ import annotations

from harness.store import CertificateRow
from reports.sanity import FAIL, SanityContext, SanityInputs
from reports.sanity.soundness import Soundness
from tests.reports._report_synth import winner_store


def test_a_radius_at_p_lower_one_half_is_unsound(tmp_path):
    path = tmp_path / "s.sqlite"
    with winner_store(path) as store:
        rows = store.query(
            "SELECT model, noise, image, norm, alpha, prediction, p_lower, correct"
            " FROM certificates WHERE certifier = 'cohen'"
        )
        store.put_certificates(
            [
                CertificateRow(m, nz, img, "test-half", nm, a, pred, min(p, 0.5), 1.0, bool(c), 0.0)
                for m, nz, img, nm, a, pred, p, c in rows
            ]
        )
    gate = Soundness().run(SanityInputs.from_store(path), SanityContext())
    assert gate.status == FAIL
    assert {row[5] for row in gate.affected} == {"test-half"}
