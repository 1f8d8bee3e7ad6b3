"""How ``compare`` finds the noise a user names among a model's stored noises."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.noise import noise_class
from reports.discordant import _pick

DIM = 64
NOISES = [
    noise_class("gaussian")(0.25, DIM),
    noise_class("gaussian")(0.5, DIM),
    noise_class("generalized_gaussian").matched(0.25, DIM, k=16.0),
    noise_class("generalized_gaussian").matched(0.25, DIM, k=8.0),
    noise_class("laplace").matched(0.25, DIM),
]
NAMES = [noise.name for noise in NOISES]


def _outcomes() -> pd.DataFrame:
    rows = [
        {"model": "m", "noise": name, "certifier": "cohen", "norm": "l2", "alpha": 0.001,
         "image": image, "radius": 0.1, "correct": True, "kind": "smoothing"}
        for name in NAMES
        for image in range(3)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def _picked(noise: str) -> str:
    rows = _pick(_outcomes(), ("m", noise, "cohen"), "l2", 0.001)
    (name,) = set(rows["noise"])
    return name


@pytest.mark.parametrize(
    "given_name,expected",
    [
        ("gaussian(sigma=0.5)", NAMES[1]),
        ("gaussian(sigma=0.25,dim=64)", NAMES[0]),
        ("generalized_gaussian(k=16)", NAMES[2]),
        ("generalized_gaussian( k = 8.0 )", NAMES[3]),
        ("generalized_gaussian:k=8", NAMES[3]),  # as import --noise writes it
        ("laplace", NAMES[4]),
        (NAMES[2], NAMES[2]),
    ],
)
def test_a_family_with_some_parameters_names_one_noise(given_name, expected):
    assert _picked(given_name) == expected


@pytest.mark.parametrize(
    "given_name,message",
    [
        ("gaussian", "matches 2 stored noises"),
        ("generalized_gaussian(dim=64)", "matches 2 stored noises"),
        ("gaussian(sigma=0.3)", "is none of model 'm'"),
        ("gaussian(sigma)", "is none of model 'm'"),
        ("uniform_cube", "is none of model 'm'"),
    ],
)
def test_a_noise_that_names_none_or_several_is_refused(given_name, message):
    with pytest.raises(ValueError, match=message):
        _picked(given_name)


@given(st.sampled_from(NOISES), st.data())
def test_every_stored_noise_is_found_by_its_family_and_its_parameters_in_any_order(noise, data):
    params = list(noise.params().items())
    order = data.draw(st.permutations(params))
    written = ",".join(f"{key}={value!r}" for key, value in order)
    assert _picked(f"{noise.family}({written})") == noise.name


@pytest.mark.parametrize(
    "given_name,offered",
    [
        ("gausian", "'gaussian'"),
        ("laplce", "'laplace'"),
        ("generalised_gaussian", "'generalized_gaussian'"),
    ],
)
def test_a_misspelt_family_is_offered_the_stored_one(given_name, offered):
    with pytest.raises(ValueError, match=f"is none of .*; did you mean {offered}"):
        _picked(given_name)


@pytest.mark.parametrize(
    "selector,message",
    [
        (("m2", "laplace", "cohen"), "unknown model 'm2'; did you mean 'm'\\? stored: \\['m'\\]"),
        (
            ("m", "laplace", "cohn"),
            "did you mean 'cohen'\\? that noise's certifiers: \\['cohen'\\]",
        ),
        (("m", "laplace", "wulff"), "certifier 'wulff'.*; that noise's certifiers: \\['cohen'\\]"),
    ],
)
def test_a_model_or_certifier_not_stored_is_named_with_what_is(selector, message):
    with pytest.raises(ValueError, match=message):
        _pick(_outcomes(), selector, "l2", 0.001)
