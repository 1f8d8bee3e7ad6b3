"""The certifier kit's non-statistical properties can fail: a plugin that overrides
``radius`` (as the kit's users may) and breaks abstention, monotonicity, the vectorized
contract, the refusals or pickling by a little is rejected by that property, run as
``check_certifier`` runs it (``certifier_checks``); the same plugin without the defect
passes. The reference radius is Cohen et al. (2019), ``sigma Phi^-1(p)``."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtri

from certifiers.base import NORMS, Certificate, Certifier, check_probabilities
from certifiers.testing import certifier_checks, check_certifier
from harness.noise import Gaussian, GeneralizedGaussian, Laplace, Noise


class Overriding(Certifier):
    """Cohen's l2 radius for Gaussian noise through its own ``radius``, with one
    ``defect`` (``None``: none)."""

    name = "overriding-test"

    def __init__(self, defect=None):
        self.defect = defect

    def supports(self, noise, norm):
        if self.defect == "supports-anything":
            return norm == "l2"
        return isinstance(noise, Gaussian) and norm == "l2"

    def radius(self, noise, p_lower, norm="l2"):
        d = self.defect
        if not (d == "accepts-L2" and norm == "L2"):
            if norm not in NORMS:
                raise ValueError(f"unknown norm {norm!r}")
        if not isinstance(noise, Gaussian):
            if d == "zero-for-unsupported" and isinstance(noise, Noise):
                return 0.0
            raise ValueError("unsupported noise")
        if d == "accepts-string" and isinstance(p_lower, str):
            p_lower = float(p_lower)
        if d == "accepts-nan" and isinstance(p_lower, float) and np.isnan(p_lower):
            return 0.0
        try:
            p = check_probabilities(p_lower)
        except (ValueError, TypeError) as err:
            if d == "wrong-error":
                raise RuntimeError(str(err)) from None
            raise
        flat = np.sort(p.ravel()) if d == "sorts" and p.ndim == 1 else p.ravel()
        r = np.where(flat > 0.5, noise.sigma * ndtri(np.clip(flat, 0.5, 1.0)), 0.0)
        if d == "decreasing":
            r = np.where(flat > 0.5, noise.sigma * (1.0 - 0.05 * flat), 0.0)
        if d == "decreasing-above-0.7":
            top = noise.sigma * ndtri(0.7) * (1.0 - 0.05 * (flat - 0.7))
            r = np.where(flat > 0.7, top, r)
        if d == "positive-below-half":
            r = np.where((flat > 0.49) & (flat <= 0.5), 1e-3, r)
        if p.ndim > 0 and d == "array-relative":
            r = r * 1.005
        if p.ndim > 0 and d == "array-absolute":
            r = np.where(flat > 0.5, r + 1e-4, r)
        if p.ndim > 0 and d == "array-infinite":
            r = np.where(flat >= 0.75, np.inf, r)
        if d == "pickled" and getattr(self, "_unpickled", False):
            r = 0.99 * r
        if p.ndim == 0:
            return np.asarray(r[0]) if d == "scalar-array" else float(r[0])
        if d == "row-shape" and p.ndim == 1:
            return r[None, :]
        if d == "flat-grid" and p.ndim == 3:
            return r
        return r.reshape(p.shape)

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._unpickled = True


NOISE = Gaussian(0.5, 4)


def _run(prop, defect):
    """Run one property as ``check_certifier`` does: any exception is its failure."""
    checks = dict(certifier_checks(Overriding(defect), NOISE, "l2"))
    try:
        checks[prop]()
    except AssertionError:
        raise
    except Exception as err:
        raise AssertionError(f"{type(err).__name__}: {err}") from err


@pytest.mark.parametrize(
    "prop,defect",
    [
        ("abstains", "positive-below-half"),
        ("monotone", "decreasing"),
        ("monotone", "decreasing-above-0.7"),
        ("vectorized", "array-relative"),
        ("vectorized", "array-absolute"),
        ("vectorized", "array-infinite"),
        ("vectorized", "row-shape"),
        ("vectorized", "scalar-array"),
        ("vectorized", "flat-grid"),
        ("vectorized", "sorts"),
        ("bad_input", "accepts-nan"),
        ("bad_input", "accepts-string"),
        ("bad_input", "accepts-L2"),
        ("bad_input", "supports-anything"),
        ("bad_input", "zero-for-unsupported"),
        ("bad_input", "wrong-error"),
        ("picklable", "pickled"),
    ],
)
def test_each_defect_fails_its_property(prop, defect):
    with pytest.raises(AssertionError):
        _run(prop, defect)
    _run(prop, None)


def test_the_defect_free_plugin_passes_the_kit():
    assert check_certifier(Overriding(), [NOISE, Laplace(0.5, 4)], max_examples=20) == [
        (NOISE.name, "l2")
    ]


def _cohen_table(c, noise, p):
    return noise.sigma * ndtri(p)


class EveryNormCohen(Certifier):
    """Test-only: a radius claimed for the generalized Gaussian family (two examples) in
    every norm (the kit is not run here, only the list of checks is built)."""

    certificates = {("generalized_gaussian", n): Certificate(_cohen_table) for n in NORMS}


def test_the_registry_wide_checks_cover_every_example_dimension_and_norm(plugins):
    from certifiers.testing import CERTIFIER_PROPERTIES, registered_certifier_checks

    plugins.certifier("every-norm-cohen-test", EveryNormCohen)
    dims = (3, 7)
    ids = [i for i, _ in registered_certifier_checks(dims=dims) if i.startswith("every-norm-")]
    n_examples = len(GeneralizedGaussian.examples(3))
    assert n_examples >= 2
    expected = {
        f"every-norm-cohen-test-generalized_gaussian[{i}]-d{dim}-{norm}-{prop}"
        for i in range(n_examples)
        for dim in dims
        for norm in NORMS
        for prop in CERTIFIER_PROPERTIES
    }
    assert len(ids) == len(expected) and set(ids) == expected
