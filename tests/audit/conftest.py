"""Test-only certifiers for the audits: one that certifies twice Cohen et al.'s radius
(unsound), which the audits must catch, and the same declaring a spent confidence."""

from __future__ import annotations

import numpy as np
import pytest

from certifiers.base import Certificate
from certifiers.cohen import Cohen, gaussian_l2, gaussian_linf


def _double(radius):
    def doubled(certifier, noise, p: np.ndarray) -> np.ndarray:
        return 2.0 * radius(certifier, noise, p)

    return doubled


class DoubleCohen(Cohen):
    """Twice Cohen et al.'s radius: false whenever the true radius is below it."""

    name = "cohen-2x"
    certificates = {
        ("gaussian", "l2"): Certificate(_double(gaussian_l2)),
        ("gaussian", "l1"): Certificate(_double(gaussian_l2)),
        ("gaussian", "linf"): Certificate(_double(gaussian_linf)),
    }


def _spends_a_thousandth(certifier, noise) -> float:
    return 1e-3  # what functional(mc_alpha=1e-3) declares for its Monte Carlo tables


class DoubleCohenSpending(Cohen):
    """Twice Cohen et al.'s radius, declaring 1e-3 of its own confidence spent."""

    name = "cohen-2x-spending"
    certificates = {
        key: Certificate(entry.radius, spends=_spends_a_thousandth)
        for key, entry in DoubleCohen.certificates.items()
    }


@pytest.fixture
def double_cohen_spending(plugins):
    plugins.certifier("cohen-2x-spending", DoubleCohenSpending)
    return "cohen-2x-spending"


@pytest.fixture
def double_cohen(plugins):
    plugins.certifier("cohen-2x", DoubleCohen)
    return "cohen-2x"
