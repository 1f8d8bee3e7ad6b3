"""The soundness gate must not let a stored radius that is infinite (on a non-Gaussian
noise, where it takes the Monte Carlo branch) or negative pass as sound or as "nothing
to check": ``_check_rows`` skips every pick with ``not (0 < r < inf)``, so an infinite
radius at p_A < 1, the largest false guarantee there is, is never looked at and the
row is neither marked UNSOUND nor UNCHECKED. Such rows reach the store through a plugin
that overrides ``Certifier.radius`` (certify_store does not re-validate), an import, or
an altered store."""

from __future__ import annotations

import numpy as np
import pytest

from harness.certify import certify_store
from harness.noise import Gaussian, Laplace
from reports.sanity import FAIL, SanityContext, SanityInputs
from reports.sanity.soundness import Soundness, soundness_by_row
from tests.reports._report_synth import DIM, add_counts, copy_certificates, new_store

CONFIG = {"certify": {"certifiers": ["wulff", "cohen"], "norms": ["l1"], "alpha": [0.001]}}


def _store(path, noise, certifier):
    store = new_store(path, 8, {"m": 0.25}, config=CONFIG)
    labels = np.arange(8) % 10
    add_counts(store, "m", noise, labels, labels, [990, 980, 970, 960, 950, 940, 930, 920])
    certify_store(store, [certifier], ["l1"], [0.001], progress=False)
    return store


def test_an_infinite_radius_on_laplace_noise_fails_the_gate(tmp_path):
    path = tmp_path / "s.sqlite"
    with _store(path, Laplace(0.25 / np.sqrt(2), DIM), "wulff") as store:
        copy_certificates(store, "wulff", "infinite-plugin", lambda p, spec, norm: float("inf"))
    inputs = SanityInputs.from_store(path)
    gate = Soundness().run(inputs, SanityContext())
    assert gate.status == FAIL, (gate.status, gate.summary)
    assert "infinite-plugin" in {row[5] for row in gate.affected}
    verdicts = {row[5]: v for row, v in soundness_by_row(inputs).items()}
    assert verdicts["infinite-plugin"].startswith("unsound"), verdicts["infinite-plugin"]


@pytest.mark.parametrize("family", ["gaussian", "laplace"])
def test_a_negative_radius_is_not_passed_as_sound(tmp_path, family):
    """A negative radius is no certificate at all: taking it as a sound one lets the
    report print a negative ACR and a clean accuracy of 0 for a row with no mark."""
    path = tmp_path / "s.sqlite"
    noise = Gaussian(0.25, DIM) if family == "gaussian" else Laplace(0.25 / np.sqrt(2), DIM)
    source = "cohen" if family == "gaussian" else "wulff"
    with _store(path, noise, source) as store:
        copy_certificates(store, source, "negative-plugin", lambda p, spec, norm: -1.0)
    gate = Soundness().run(SanityInputs.from_store(path), SanityContext())
    assert gate.status == FAIL, (gate.status, gate.summary)
    assert "negative-plugin" in {row[5] for row in gate.affected}
