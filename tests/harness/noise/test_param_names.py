"""``Noise.check_param_names``, run before a config's or a command line's noise is built:
it never refuses what the constructor takes, and it names what is wrong otherwise."""

from __future__ import annotations

import pytest

from harness.noise import noise_class, noise_families


@pytest.mark.parametrize("family", noise_families())
def test_the_parameters_each_family_is_built_with_pass(family):
    cls = noise_class(family)
    for noise in cls.examples(64):
        params = {k: v for k, v in noise.params().items() if k != "dim"}
        cls.check_param_names(params)
        cls.check_param_names({k: v for k, v in params.items() if k != cls.scale_param}, True)


@pytest.mark.parametrize("family", noise_families())
def test_a_misspelt_parameter_is_named_with_its_fix(family):
    cls = noise_class(family)
    typo = cls.scale_param[:-1] + "_"
    with pytest.raises(
        ValueError, match=f"no parameter {typo!r}; did you mean {cls.scale_param!r}"
    ):
        cls.check_param_names([typo])


@pytest.mark.parametrize("family", noise_families())
def test_the_scale_of_a_matched_noise_and_a_missing_scale_are_refused(family):
    cls = noise_class(family)
    example = cls.examples(64)[0].shape_params()
    with pytest.raises(ValueError, match="matched to the model's sigma0"):
        cls.check_param_names({**example, cls.scale_param: 1.0}, matched=True)
    with pytest.raises(ValueError, match=f"needs {cls.scale_param}"):
        cls.check_param_names(example, matched=False)


def test_a_missing_shape_parameter_is_named():
    with pytest.raises(ValueError, match="generalized_gaussian needs k \\(sigma is matched"):
        noise_class("generalized_gaussian").check_param_names([], matched=True)


def test_a_family_that_takes_any_keyword_is_not_held_to_its_named_ones():
    from harness.noise import Gaussian

    class Open(Gaussian):
        family = "test_open"

        def __init__(self, sigma: float, dim: int, **extra: float) -> None:
            super().__init__(sigma, dim)

    Open.check_param_names(["sigma", "anything"])
    with pytest.raises(ValueError, match="needs sigma;"):
        Open.check_param_names(["anything"])
