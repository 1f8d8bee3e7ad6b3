import pytest

from harness.config import ConfigError, load, parse

BASE = {
    "run": {"dataset": "digits", "arch": "mlp", "train_sigmas": [0.25], "n_test": 5, "n": 100},
    "noises": [{"family": "gaussian"}],
}


def with_(section, **kv):
    data = {k: (dict(v) if isinstance(v, dict) else list(v)) for k, v in BASE.items()}
    data.setdefault(section, {})
    data[section] = {**data[section], **kv}
    return data


def test_default_config_parses():
    cfg = load("configs/default.toml")
    assert cfg.dataset == "digits" and cfg.n0 == 100 and cfg.n == 10_000
    assert cfg.n_test >= 200 and cfg.alphas == (0.001,)
    assert set(cfg.train_sigmas) == {0.12, 0.25, 0.5}


@pytest.mark.parametrize(
    "data, key",
    [
        (with_("run", nn=3), "run.nn"),
        (with_("run", n0=0), "run.n0"),
        (with_("run", n=-1), "run.n"),
        (with_("run", seed="x"), "run.seed"),
        (with_("run", train_sigmas=[0.0]), "run.train_sigmas[0]"),
        (with_("certify", alpha=[1.5]), "certify.alpha[0]"),
        (with_("certify", alpha=[0.0]), "certify.alpha[0]"),
        (with_("certify", norms=["l3"]), "certify.norms[0]"),
        (with_("certify", certifiers=["nope"]), "certify.certifiers[0]"),
        (with_("report", radii={"l7": [0.1]}), "report.radii.l7"),
        ({**BASE, "noises": [{"family": "martian"}]}, "noises[0].family"),
        ({**BASE, "extra": {}}, "[extra]"),
    ],
)
def test_errors_name_the_key(data, key):
    with pytest.raises(ConfigError) as err:
        parse(data)
    assert key in str(err.value)


def test_grid_expansion():
    data = {**BASE, "noises": [{"family": "gaussian", "matched": False, "sigma": [0.1, 0.2]}]}
    cfg = parse(data)
    assert [e.params for e in cfg.noises] == [{"sigma": 0.1}, {"sigma": 0.2}]


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[run\n")
    with pytest.raises(ConfigError, match="TOML"):
        load(bad)


@pytest.mark.parametrize("name", ["cifar10", "imagenet"])
def test_full_size_configs_parse(name):
    cfg = load(f"configs/{name}.toml")
    assert cfg.n_test == 500 and cfg.n == 100_000 and cfg.checkpoint


def test_full_size_dataset_without_data_is_a_clear_error(tmp_path):
    from harness import runner

    cfg = load("configs/cifar10.toml")
    with pytest.raises((ValueError, FileNotFoundError, RuntimeError)):
        runner.run(cfg, tmp_path / "s.sqlite", progress=False)


def test_certifier_options_from_the_config():
    base = {"run": {"dataset": "digits", "arch": "mlp", "train_sigmas": [0.25]}}
    cfg = parse({**base, "certify": {"options": {"functional": {"mc_samples": 50_000}}}})
    assert cfg.certifier_options == {"functional": {"mc_samples": 50_000}}
    with pytest.raises(ConfigError, match="'certify.options.functional'.*does not take"):
        parse({**base, "certify": {"options": {"functional": {"budget": 3}}}})
    with pytest.raises(ConfigError, match="'certify.options.nope': unknown certifier"):
        parse({**base, "certify": {"options": {"nope": {}}}})
    with pytest.raises(ConfigError, match="'certify.options.functional'"):
        parse({**base, "certify": {"options": {"functional": {"mc_samples": 10}}}})


def test_models_entries():
    run = {"dataset": "digits"}
    cfg = parse(
        {
            "run": run,
            "models": [
                {"recipe": "mlp", "sigma0": 0.25, "name": "a"},
                {"checkpoint": "x.pt", "format": "torchscript", "sigma0": 0.5},
                {"recipe": "mlp", "smoothing": False, "name": "deterministic-only"},
            ],
        }
    )
    assert [m.name for m in cfg.models] == ["a", None, "deterministic-only"]
    assert cfg.models[1].checkpoint == "x.pt" and cfg.models[1].sigma0 == 0.5
    assert cfg.models[2].sigma0 is None and not cfg.models[2].smoothing
    legacy = parse({"run": {**run, "arch": "mlp", "train_sigmas": [0.12, 0.5]}})
    assert [(m.recipe, m.sigma0) for m in legacy.models] == [("mlp", 0.12), ("mlp", 0.5)]


@pytest.mark.parametrize(
    "models,message",
    [
        ([{"sigma0": 0.25}], "exactly one of 'recipe' and 'checkpoint'"),
        ([{"recipe": "mlp", "checkpoint": "x", "sigma0": 0.25}], "exactly one of"),
        ([{"recipe": "mlp"}], "'models\\[0\\].sigma0' is missing"),
        ([{"recipe": "mlp", "sigma0": -1}], "'models\\[0\\].sigma0' must be positive"),
        (
            [{"recipe": "mlp", "sigma0": 0.2, "colour": 1}],
            "unknown config key 'models\\[0\\].colour'",
        ),
        (
            [{"recipe": "mlp", "sigma0": 0.2, "smoothing": "no"}],
            "'models\\[0\\].smoothing' must be true or false",
        ),
        ([], "non-empty array"),
    ],
)
def test_models_entries_are_checked(models, message):
    with pytest.raises(ConfigError, match=message):
        parse({"run": {"dataset": "digits"}, "models": models})


def test_models_entries_and_run_arch_exclude_each_other():
    with pytest.raises(
        ConfigError, match="either as \\[\\[models\\]\\] entries or with 'run.arch'"
    ):
        parse(
            {
                "run": {"dataset": "digits", "arch": "mlp"},
                "models": [{"recipe": "mlp", "sigma0": 1}],
            }
        )
    with pytest.raises(ConfigError, match="no models"):
        parse({"run": {"dataset": "digits"}})
