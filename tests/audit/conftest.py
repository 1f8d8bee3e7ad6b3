"""Test-only certifiers for the audits: one that certifies twice Cohen et al.'s radius
(unsound), which the audits must catch."""

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


@pytest.fixture
def double_cohen(plugins):
    plugins.certifier("cohen-2x", DoubleCohen)
    return "cohen-2x"
