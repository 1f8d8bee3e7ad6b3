"""A plugin certifier whose certificate condition (``Certificate.applies``) raises is a
failure of that certifier, not of the command: ``certify`` went down with the plugin's
own exception (a ZeroDivisionError, say), writing nothing for the groups after it and
recording no failure. Now the others' certificates are written, the failure names the
plugin and stays in the manifest, as for an invalid radius."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from certifiers.base import Certificate, Certifier
from harness.certify import CertificationError, certify_store
from harness.noise import Gaussian
from tests.reports._report_synth import DIM, add_counts, new_store

CONFIG = {"certify": {"certifiers": ["cohen"], "norms": ["l2"], "alpha": [0.001]}}


def _no_radius(certifier, noise, p):
    return np.zeros_like(p)


def _failing_condition(noise):
    raise ZeroDivisionError("a bug in the plugin's condition")


class FailingCondition(Certifier):
    certificates = {("gaussian", "l2"): Certificate(_no_radius, applies=_failing_condition)}


def test_a_failing_condition_fails_its_certifier_and_the_others_are_written(tmp_path, plugins):
    plugins.certifier("condition-plugin", FailingCondition)
    store = new_store(tmp_path / "s.sqlite", 6, {"m": 0.25}, config=CONFIG)
    labels = np.arange(6) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, [990] * 6)
    try:
        with pytest.raises(CertificationError, match="condition-plugin") as caught:
            certify_store(store, ["cohen", "condition-plugin"], ["l2"], [0.001], progress=False)
        assert "ZeroDivisionError" in str(caught.value)
        by_certifier = dict(
            store.query("SELECT certifier, COUNT(*) FROM certificates GROUP BY certifier")
        )
        assert by_certifier == {"cohen": 6}
        failures = store.get_manifest("certification_failures")
        assert any("condition-plugin" in str(entry) for entry in failures), failures
    finally:
        store.close()


def test_a_failing_condition_is_named_wherever_it_is_asked(plugins):
    """The config's check of which noises a certifier certifies, the report's sanity
    checks: each asks ``supports``, and each says which certifier's condition failed."""
    plugins.certifier("condition-plugin", FailingCondition)
    with pytest.raises(ValueError, match="condition-plugin.*ZeroDivisionError"):
        FailingCondition().supports(Gaussian(0.25, DIM), "l2")


class UnboundedGaussian(Gaussian):
    """A Gaussian whose transform, it says, is a table with no stated bound: every
    certificate of it fails, and is recorded for the certifiers that would certify it."""

    family = "unbounded_gaussian"

    def approximation(self) -> dict[str, Any] | None:
        return {"test table": {"max_log_error": 1e-12}}


class FailingConditionOnUnbounded(Certifier):
    certificates = {
        ("unbounded_gaussian", "l2"): Certificate(_no_radius, applies=_failing_condition)
    }


def test_a_failing_condition_counts_as_a_certifier_of_a_noise_that_cannot_be_certified(
    tmp_path, plugins
):
    """Where the noise itself fails (no bound on its law's distance), the failure is
    recorded for each certifier that may certify it: one whose condition fails may."""
    plugins.noise("unbounded_gaussian", UnboundedGaussian)
    plugins.certifier("condition-plugin", FailingConditionOnUnbounded)
    store = new_store(tmp_path / "s.sqlite", 6, {"m": 0.25}, config=CONFIG)
    labels = np.arange(6) % 10
    add_counts(store, "m", UnboundedGaussian(0.25, DIM), labels, labels, [990] * 6)
    try:
        with pytest.raises(CertificationError, match="tv_bound"):
            certify_store(store, ["cohen", "condition-plugin"], ["l2"], [0.001], progress=False)
        failures = store.get_manifest("certification_failures")
        assert {f["certifier"] for f in failures} == {"condition-plugin"}, failures
    finally:
        store.close()
