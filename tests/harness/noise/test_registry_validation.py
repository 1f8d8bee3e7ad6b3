"""Registration refuses a noise family that does not state what a run uses (its
dimension as ``dim``, a scale parameter among its constructor's, example parameters the
constructor takes), and ``from_spec`` turns a spec that does not fit into a
``ValueError``."""

from __future__ import annotations

import pytest

from harness.noise import Gaussian, from_spec
from harness.noise.registry import NOISES, validate_family


class NoDim(Gaussian):
    def __init__(self, sigma: float, d: int) -> None:
        super().__init__(sigma, d)


class ScaleNotAParameter(Gaussian):
    scale_param = "width"


class ExampleWithAnUnknownKey(Gaussian):
    example_params = ({"sigma": 0.5, "widht": 1.0},)


@pytest.mark.parametrize(
    ("cls", "problem"),
    [
        (NoDim, "dimension as 'dim'"),
        (ScaleNotAParameter, "scale parameter"),
        (ExampleWithAnUnknownKey, "example_params"),
    ],
)
def test_an_incomplete_family_is_refused_naming_what_it_lacks(cls, problem):
    with pytest.raises(TypeError, match=problem):
        validate_family(cls)
    name = cls.__dict__.get("family")
    with pytest.raises(TypeError, match=problem):
        NOISES.add("test_incomplete", cls)
    assert "test_incomplete" not in NOISES
    assert cls.__dict__.get("family") == name  # a refused class keeps the name it had
    assert cls.family == Gaussian.family == "gaussian"


def test_a_complete_family_passes():
    validate_family(Gaussian)


@pytest.mark.parametrize(
    "spec",
    [
        {"family": "gaussian", "params": {"sigma": 0.5, "dim": 3, "extra": 1}},
        {"family": "gaussian", "params": {"sigma": 0.5}},
        {"family": "gaussian", "params": [0.5, 3]},
        {"family": "gaussian", "params": "sigma=0.5"},
        {"params": {"sigma": 0.5, "dim": 3}},
        "gaussian",
    ],
)
def test_a_spec_that_does_not_fit_is_a_value_error(spec):
    with pytest.raises(ValueError):
        from_spec(spec)


def test_a_spec_round_trips():
    noise = Gaussian(0.5, 3)
    assert from_spec(noise.spec()) == noise
