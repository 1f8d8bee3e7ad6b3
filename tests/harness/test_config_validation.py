"""Bad values are refused when the config is read, with the key named; good values at
the documented bounds (docs/configs.md) are accepted as given."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from baselines.checkpoints.known import KNOWN_CHECKPOINTS
from harness.config import ConfigError, parse

RUN = {"dataset": "digits", "arch": "mlp", "train_sigmas": [0.25], "n_test": 5, "n": 100}


def run_with(**kv):
    return {"run": {**RUN, **kv}}


def refused(data, key):
    with pytest.raises(ConfigError) as err:
        parse(data)
    assert key in str(err.value), str(err.value)
    return str(err.value)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(-(2**70), -1))
def test_a_negative_seed_is_refused_naming_the_key(seed):
    refused(run_with(seed=seed), "'run.seed'")


# docs/configs.md: n and n0 in [1, 10^9]; batch_size, n_test, index_stride in [1, 10^7]
@pytest.mark.parametrize(
    "key, limit, extra",
    [
        ("n", 10**9, {}),
        ("n0", 10**9, {"n": 10**9}),
        ("batch_size", 10**7, {}),
        ("n_test", 10**7, {}),
        ("index_stride", 10**7, {}),
    ],
)
def test_a_budget_one_past_its_documented_limit_is_refused(key, limit, extra):
    cfg = parse(run_with(**{**extra, key: limit}))
    assert getattr(cfg, key) == limit
    over = {**extra, key: limit + 1}
    if key == "n0":
        over["n"] = limit + 1  # n0 <= n holds: the refusal names n0's own limit
    refused(run_with(**over), f"'run.{key}' must be at most")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, True, False])
def test_a_sigma_that_is_not_a_positive_finite_number_is_refused(bad):
    refused(run_with(train_sigmas=[bad]), "'run.train_sigmas[0]'")
    models = [{"recipe": "mlp", "sigma0": bad}]
    refused({"run": {"dataset": "digits"}, "models": models}, "'models[0].sigma0'")


@pytest.mark.parametrize("alpha", [1, 1.0, 2.0, -0.1, math.nan, True])
def test_alpha_outside_the_open_unit_interval_is_refused(alpha):
    refused({**run_with(), "certify": {"alpha": [0.01, alpha]}}, "'certify.alpha[1]'")


@settings(max_examples=25, deadline=None)
@given(alpha=st.floats(min_value=1e-300, max_value=1.0, exclude_max=True))
def test_alpha_inside_the_open_unit_interval_is_kept(alpha):
    assert parse({**run_with(), "certify": {"alpha": [alpha]}}).alphas == (alpha,)


@pytest.mark.parametrize(
    "key, values",
    [
        ("certifiers", ["cohen", "cohen"]),
        ("norms", ["l2", "l2"]),
        ("alpha", [0.01, 0.01]),
        ("certifiers", ["wulff", "cohen", "cohen"]),
    ],
)
def test_a_value_named_twice_in_a_row_is_refused(key, values):
    message = refused(
        {**run_with(), "certify": {key: values}}, f"'certify.{key}[{len(values) - 1}]'"
    )
    assert "named twice" in message


@pytest.mark.parametrize("matched", ["no", "false", 0, 1, [True]])
def test_matched_must_be_true_or_false(matched):
    """A string "no" is truthy: it must not silently mean matched = true."""
    noises = [{"family": "gaussian", "matched": matched, "sigma": 0.5}]
    refused({**run_with(), "noises": noises}, "'noises[0].matched'")


def test_an_unmatched_noise_is_the_same_noise_for_every_model():
    """An unmatched noise does not depend on sigma0: with several models it is one noise,
    not a noise 'given twice'."""
    noises = [{"family": "gaussian", "matched": False, "sigma": 0.5}, {"family": "laplace"}]
    cfg = parse({**run_with(train_sigmas=[0.25, 0.5, 1.0]), "noises": noises})
    assert len(cfg.models) == 3 and len(cfg.noises) == 2


def test_an_empty_train_sigmas_is_refused():
    refused(run_with(train_sigmas=[]), "'run.train_sigmas'")


def test_run_checkpoint_takes_one_sigma():
    run = {"dataset": "digits", "checkpoint": "m.pt"}
    refused({"run": {**run, "train_sigmas": [0.25, 0.5]}}, "'run.train_sigmas'")
    (model,) = parse({"run": {**run, "train_sigmas": [0.5]}}).models
    assert (model.checkpoint, model.sigma0) == ("m.pt", 0.5)


def test_run_arch_and_run_checkpoint_exclude_each_other():
    message = refused(run_with(checkpoint="m.pt"), "'run.arch'")
    assert "'run.checkpoint'" in message


@pytest.mark.parametrize("name", sorted(KNOWN_CHECKPOINTS))
def test_a_known_checkpoint_holds_the_sigma0_it_was_trained_with(name):
    """A known entry's sigma0 is its published training sigma: the entry may repeat it,
    may not contradict it (the row would carry the name of one model and the noises of
    another); only an entry that holds none (a model not trained with Gaussian noise)
    takes a chosen one."""
    known = KNOWN_CHECKPOINTS[name]
    run = {"dataset": known.dataset, "data_root": "x"}
    chosen = 0.37 if known.sigma0 != 0.37 else 0.41
    entry = {"known": name, "checkpoint": "a.tar", "sigma0": chosen}
    if known.sigma0 is None:
        (model,) = parse({"run": run, "models": [entry]}).models
        assert model.sigma0 == chosen
        return
    message = refused({"run": run, "models": [entry]}, "'models[0].sigma0'")
    assert f"trained with sigma0 = {known.sigma0}" in message and "matched = false" in message
    for repeated in ({}, {"sigma0": known.sigma0}):
        (model,) = parse(
            {"run": run, "models": [{"known": name, "checkpoint": "a.tar", **repeated}]}
        ).models
        assert model.sigma0 == known.sigma0


@pytest.mark.parametrize("name", sorted(KNOWN_CHECKPOINTS))
def test_a_known_entry_refuses_the_release_path_of_another(name):
    known = KNOWN_CHECKPOINTS[name]
    run = {"dataset": known.dataset, "data_root": "x"}
    sigma0 = {} if known.sigma0 is not None else {"sigma0": 0.25}  # an entry that holds none
    for other, entry in KNOWN_CHECKPOINTS.items():
        path = f"/data/{entry.path}"
        table = {"run": run, "models": [{"known": name, "checkpoint": path, **sigma0}]}
        if other == name:
            (model,) = parse(table).models
            assert model.checkpoint == path
        else:
            message = refused(table, "'models[0].checkpoint'")
            assert other in message and known.path in message


def test_a_known_checkpoint_refuses_another_format():
    from baselines.checkpoints import format_names
    from baselines.checkpoints.known import KNOWN_CHECKPOINTS

    name, known = next(iter(KNOWN_CHECKPOINTS.items()))
    other = next(f for f in format_names() if f not in ("auto", known.format))
    run = {"dataset": known.dataset, "data_root": "x"}
    entry = {"known": name, "checkpoint": "a.tar", "format": other}
    refused(
        {"run": run, "models": [entry], "noises": [{"family": "gaussian"}]}, "'models[0].format'"
    )
    entry["format"] = known.format
    assert parse({"run": run, "models": [entry]}).models[0].format == known.format


def test_a_noise_that_repeats_another_at_some_models_sigma_is_refused():
    """Every noise is checked at each model's sigma0, not only the first: the matched
    Gaussian of the sigma0 = 0.5 model is the unmatched gaussian(sigma=0.5) again."""
    noises = [{"family": "gaussian"}, {"family": "gaussian", "matched": False, "sigma": 0.5}]
    message = refused({**run_with(train_sigmas=[0.25, 0.5]), "noises": noises}, "'noises[1]'")
    assert "sigma=0.5" in message and "again" in message
    parse({**run_with(train_sigmas=[0.25, 1.0]), "noises": noises})  # distinct at both
