"""A store holding a registered plugin's rows whose confidence spent lies outside [0, 1)
(written before certify checked it, or altered): the soundness gate fails those rows, and
the other checks still run for every row. ``monotone`` and ``reproducible`` ask
``is_exact`` of each certifier; when ``Certifier.confidence_spent`` refused such a value
both failed for the whole store ("the check itself failed")."""

from __future__ import annotations

import pytest

from certifiers.base import Certificate, Certifier
from reports.sanity import FAIL, SanityInputs, run_checks
from tests.reports._report_synth import copy_certificates, winner_store


def _third_of_cohen(c, noise, p):
    from scipy.special import ndtri

    return noise.sigma * ndtri(p) / 3


@pytest.mark.parametrize("spent", [2.0, -0.5])
def test_monotone_and_reproducible_still_run(tmp_path, plugins, spent):
    class Bad(Certifier):
        certificates = {
            ("gaussian", "l2"): Certificate(_third_of_cohen, spends=lambda c, noise: spent)
        }

    plugins.certifier("bad-plugin", Bad)
    path = tmp_path / "s.sqlite"
    with winner_store(path, n_images=40) as store:
        copy_certificates(store, "cohen", "bad-plugin", lambda p, spec, norm: 0.0, spent=spent)
    results = {r.name: r for r in run_checks(SanityInputs.from_store(path))}
    assert results["soundness"].status == FAIL  # the gate fails the plugin's rows
    for name in ("monotone", "reproducible"):
        assert "the check itself failed" not in results[name].summary, results[name].summary
