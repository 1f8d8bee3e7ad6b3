import warnings

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
    latin = tmp_path / "latin.toml"
    latin.write_bytes("[run]\nname = 'caf\u00e9'\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not a TOML config: not UTF-8 text$"):
        load(latin)


def test_a_store_given_for_the_config_is_named(tmp_path):
    import sqlite3

    store = tmp_path / "run.sqlite"
    with sqlite3.connect(store) as db:
        db.execute("create table t (x blob)")
        db.execute("insert into t values (?)", (bytes(range(256)),))
    with pytest.raises(ConfigError, match="not UTF-8 text .*a store\\? run takes the config"):
        load(store)


@pytest.mark.parametrize(
    "name,stride,sigmas",
    [("cifar10", 20, {0.12, 0.25, 0.5, 1.0}), ("imagenet", 100, {0.25, 0.5, 1.0})],
)
def test_full_size_configs_follow_cohens_protocol(name, stride, sigmas):
    from baselines.checkpoints import KNOWN_CHECKPOINTS

    cfg = load(f"configs/{name}.toml")
    assert (cfg.n_test, cfg.index_stride, cfg.subset) == (500, stride, "cohen2019")
    assert (cfg.n0, cfg.n, cfg.alphas) == (100, 100_000, (0.001,))
    assert not cfg.download
    assert {m.sigma0 for m in cfg.models} == sigmas
    for m in cfg.models:  # each a known Cohen et al. checkpoint, at its released path
        known = KNOWN_CHECKPOINTS[m.known]
        assert known.dataset == name and m.checkpoint == known.path
        assert (m.arch, m.format, m.sigma0) == (known.arch, known.format, known.sigma0)
    families = {e.family for e in cfg.noises}
    assert {"gaussian", "generalized_gaussian", "generalized_laplace", "laplace"} <= families


def test_the_cifar10_config_has_every_noise_family():
    from harness.noise import noise_families

    cfg = load("configs/cifar10.toml")
    assert {e.family for e in cfg.noises} == set(noise_families())
    assert cfg.report.grid("linf")[1:] == [2 / 255, 8 / 255]


def test_full_size_dataset_without_data_is_a_clear_error(tmp_path):
    from harness import runner

    cfg = load("configs/cifar10.toml")
    with pytest.raises(ValueError, match="run.data_root.*cifar-10-batches-py"):
        runner.run(cfg, tmp_path / "s.sqlite", progress=False)


def test_named_subsets_fix_stride_and_count():
    base = {"dataset": "cifar10", "data_root": "x", "checkpoint": "m.pt", "train_sigmas": [0.25]}
    cfg = parse({"run": {**base, "subset": "cohen2019"}})
    assert (cfg.index_stride, cfg.n_test, cfg.subset) == (20, 500, "cohen2019")
    assert parse({"run": {**base, "subset": "cohen2019", "n_test": 500}}).n_test == 500
    with pytest.raises(ConfigError, match="'run.n_test' is 20, but subset 'cohen2019'"):
        parse({"run": {**base, "subset": "cohen2019", "n_test": 20}})
    with pytest.raises(ConfigError, match="'run.subset': no index subset 'every7th'"):
        parse({"run": {**base, "subset": "every7th"}})
    with pytest.raises(ConfigError, match="'run.download' must be true or false"):
        parse({"run": {**base, "download": "yes"}})


def test_known_checkpoints_fill_in_their_entries():
    run = {"dataset": "cifar10", "data_root": "x"}
    cfg = parse(
        {
            "run": run,
            "models": [
                {"known": "cohen2019-cifar10-resnet110-noise0.50", "checkpoint": "a.tar"},
                {"known": "trades2019-cifar10-wrn34-10", "checkpoint": "b.pt", "sigma0": 0.1},
            ],
        }
    )
    a, b = cfg.models
    assert (a.arch, a.format, a.sigma0) == ("cifar_resnet110", "cohen", 0.5)
    assert a.display_name("cifar10") == "cohen2019-cifar10-resnet110-noise0.50"
    assert (b.arch, b.format, b.sigma0) == ("trades_wrn34_10", "state_dict", 0.1)
    bad = [
        ({"known": "nope", "checkpoint": "a"}, "'models\\[0\\].known': unknown checkpoint"),
        ({"known": "trades2019-cifar10-wrn34-10", "checkpoint": "a"}, "'models\\[0\\].sigma0'"),
        ({"known": "cohen2019-cifar10-resnet110-noise0.50"}, "nothing is downloaded"),
        (
            {
                "known": "cohen2019-cifar10-resnet110-noise0.50",
                "checkpoint": "a",
                "arch": "resnet50",
            },
            "'models\\[0\\].arch' is 'resnet50'",
        ),
        ({"checkpoint": "a", "format": "onnx", "sigma0": 1}, "'models\\[0\\].format'"),
        ({"checkpoint": "a", "arch": "vgg", "sigma0": 1}, "'models\\[0\\].arch'"),
    ]
    for entry, message in bad:
        with pytest.raises(ConfigError, match=message):
            parse({"run": run, "models": [entry]})


def test_generic_checkpoint_names_take_their_folders():
    from baselines.models import ModelSpec

    spec = ModelSpec(checkpoint="models/cifar10/resnet110/noise_0.25/checkpoint.pth.tar")
    assert spec.display_name("cifar10") == "cifar10-resnet110-noise_0.25"
    assert ModelSpec(checkpoint="ckpts/my_net.v2.pt").display_name("cifar10") == "my_net"


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
    # float32 interval bounds are not rounded outward: training only, never a certificate
    with pytest.raises(ConfigError, match="'certify.options.ibp'.*cannot certify"):
        parse({**base, "certify": {"options": {"ibp": {"dtype": "float32"}}}})
    with pytest.raises(ConfigError, match="'certify.options.crown'.*does not take"):
        parse({**base, "certify": {"options": {"crown": {"training": True}}}})


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


@pytest.mark.parametrize(
    "data, message",
    [
        (with_("run", n=10**30), "'run.n' must be at most"),
        (with_("run", n=2**63 - 1), "'run.n' must be at most"),
        (with_("run", n0=10**12, n=10**12), "'run.n0' must be at most"),
        (with_("run", batch_size=10**9), "'run.batch_size' must be at most"),
        (with_("run", n_test=10**8), "'run.n_test' must be at most"),
        (with_("run", index_stride=10**8), "'run.index_stride' must be at most"),
        (with_("run", seed=2**63), "'run.seed' must be below 2\\^63"),
        (with_("run", train_sigmas=[1e308]), "'run.train_sigmas\\[0\\]' must lie in \\(0, 100\\]"),
        (with_("run", train_sigmas=[0.25, 101]), "'run.train_sigmas\\[1\\]'"),
        (with_("run", n0=101, n=100), "'run.n0' is 101, more than 'run.n' = 100"),
        (with_("run", dataset="mnist"), "'run.dataset': unknown dataset 'mnist'"),
        (with_("certify", certifiers=[]), "'certify.certifiers' is empty"),
        (with_("certify", norms=[]), "'certify.norms' is empty"),
        (with_("report", reference="nope"), "'report.reference': unknown certifier 'nope'"),
        (with_("report", reference=""), "'report.reference' must name a certifier"),
        (with_("report", reference="ibp"), "'report.reference' is 'ibp', a deterministic"),
        (with_("report", reference="crown"), "deterministic .* one of \\['cohen'"),
        (with_("report", radii={"l2": [float("inf")]}), "'report.radii.l2' must hold finite"),
    ],
)
def test_absurd_budgets_and_empty_choices_are_refused_with_the_key(data, message):
    with pytest.raises(ConfigError, match=message):
        parse(data)


def test_limits_themselves_are_accepted():
    cfg = parse(with_("run", n=10**9, n0=10**9, batch_size=10**7, seed=2**63 - 1))
    assert (cfg.n, cfg.n0, cfg.batch_size) == (10**9, 10**9, 10**7)
    assert parse(with_("run", train_sigmas=[100])).train_sigmas == (100.0,)
    assert parse(with_("run", n0=100, n=100)).n0 == 100


@pytest.mark.parametrize("name", ["../evil", "a/b", "", ".hidden", "x" * 101, "a b", "é"])
def test_names_that_become_file_names_are_checked(name):
    with pytest.raises(ConfigError, match="'run.name' is .*becomes a file name"):
        parse(with_("run", name=name))
    models = [{"recipe": "mlp", "sigma0": 0.25, "name": name}]
    with pytest.raises(ConfigError, match="'models\\[0\\].name' is"):
        parse({"run": {"dataset": "digits"}, "models": models})


def test_safe_names_pass():
    assert parse(with_("run", name="cifar10_sigma=0.25-v2.1+x")).name == "cifar10_sigma=0.25-v2.1+x"


@pytest.mark.parametrize(
    "noise, message",
    [
        ({"family": "generalized_gaussian", "k": -3}, "'noises\\[0\\]' \\(generalized_gaussian\\)"),
        ({"family": "generalized_gaussian", "k": 64}, "k must satisfy"),
        ({"family": "gaussian", "matched": False, "sigma": -1}, "sigma must be positive"),
        ({"family": "gaussian", "sigma": 0.5}, "its sigma is matched to the model's sigma0"),
        ({"family": "uniform_cube", "k": 2}, "uniform_cube has no parameter 'k'; it takes"),
        ({"family": "gaussian", "sigm": 2}, "no parameter 'sigm'; did you mean 'sigma'\\?"),
        ({"family": "generalized_gaussian"}, "needs k \\(sigma is matched"),
        ({"family": "generalized_gaussian", "matched": False, "k": 2}, "needs sigma;"),
        ({"family": "gaussian", "dim": 3}, "'dim' is set by the dataset"),
        ({"family": "mixed_norm", "k": "x"}, "k must be a real number"),
    ],
)
def test_noise_parameters_are_checked_at_parse_time(noise, message):
    with pytest.raises(ConfigError, match=message):
        parse({**BASE, "noises": [noise]})


def test_noise_parameters_are_checked_at_the_datasets_dimension():
    """k < dim holds for digits (64) but the bound is the dataset's own dimension."""
    noise = {"family": "generalized_gaussian", "k": 100}
    with pytest.raises(ConfigError, match="dim = 64"):
        parse({**BASE, "noises": [noise]})
    run = {"dataset": "cifar10", "data_root": "x", "checkpoint": "m.pt", "train_sigmas": [0.25]}
    assert parse({"run": run, "noises": [noise]}).noises[0].params == {"k": 100}


def test_a_duplicated_noise_is_named_alone():
    noises = [{"family": "gaussian"}, {"family": "laplace"}, {"family": "gaussian"}]
    with pytest.raises(ConfigError) as err:
        parse({**BASE, "noises": noises})
    message = str(err.value)
    assert "'noises[2]' defines noise gaussian(dim=64,sigma=0.25) again" in message
    assert "noises[0]" in message and "laplace" not in message


def test_a_grid_that_repeats_a_value_is_named_as_such():
    noises = [{"family": "gaussian"}, {"family": "generalized_gaussian", "k": [8, 8]}]
    with pytest.raises(ConfigError, match=r"'noises\[1\]' gives noise .* twice \(a grid"):
        parse({**BASE, "noises": noises})


def test_repeated_train_sigmas_are_refused_at_parse_time():
    run = {**BASE["run"], "train_sigmas": [0.25, 0.5, 0.25]}
    with pytest.raises(ConfigError, match="'run.train_sigmas' repeats 0.25: one model"):
        parse({**BASE, "run": run})


def test_a_refused_noise_leaves_no_store(tmp_path, capsys):
    from harness.cli import main

    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[run]\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\nn_test = 2\n'
        'n0 = 10\nn = 20\n[[noises]]\nfamily = "generalized_gaussian"\nk = -1\n'
    )
    store = tmp_path / "s.sqlite"
    assert main(["run", str(cfg), "--store", str(store), "--quiet"]) == 2
    assert "noises[0]" in capsys.readouterr().err
    assert not store.exists()


@pytest.mark.parametrize("sigma", [1e300, 1e31])
def test_a_noise_float32_cannot_hold_is_refused_at_parse_time(sigma):
    noise = {"family": "gaussian", "matched": False, "sigma": sigma}
    with pytest.raises(ConfigError, match="'noises\\[0\\]' \\(gaussian\\).*cannot hold"):
        parse({**BASE, "noises": [noise]})
    ok = {"family": "gaussian", "matched": False, "sigma": 1e3}
    assert parse({**BASE, "noises": [ok]}).noises[0].params == {"sigma": 1e3}


def test_a_key_with_a_newline_is_named_on_one_line():
    """Found by the config fuzz test: the key was printed raw, so the error broke."""
    with pytest.raises(ConfigError) as err:
        parse({**BASE, "run": {**BASE["run"], "\n": 0}})
    assert "\n" not in str(err.value) and "'run.\\n'" in str(err.value)


def test_user_keys_in_noise_and_certifier_tables_are_named_on_one_line():
    """A noise parameter, a certifier's name or one of its options may hold a line break;
    the error names it quoted, on one line."""
    empty = {**BASE, "noises": [{"family": "gaussian", "\n": []}]}
    unknown = with_("certify", options={"a\nb": {}})
    option = with_("certify", options={"cohen": {"x\ny": 1}})
    for doc, named in ((empty, "'noises[0].\\n'"), (unknown, "'certify.options.a\\nb'"),
                       (option, "'certify.options.cohen'")):  # fmt: skip
        with pytest.raises(ConfigError) as err:
            parse(doc)
        assert "\n" not in str(err.value) and named in str(err.value), str(err.value)


@pytest.mark.parametrize(
    "option,value",
    [
        ("mc_seed", -1), ("mc_seed", "x"), ("mc_seed", 1.5), ("mc_seed", True),
        ("mc_seed", 2**63), ("mc_samples", 10**12), ("mc_samples", True),
        ("mc_grid", True), ("mc_grid", 10**7), ("mc_alpha", True),
    ],
)  # fmt: skip
def test_monte_carlo_options_are_checked_at_parse_time(option, value):
    """Refused when the config is read, naming the key, not after sampling: a seed that is
    not a non-negative 63-bit int, a bool for a number, budgets beyond their limits."""
    base = load("configs/default.toml").raw
    opts = {"certify": {**base.get("certify", {}), "options": {"functional": {option: value}}}}
    with pytest.raises(ConfigError, match=r"'certify\.options\.functional'.*" + option[3:]):
        parse({**base, **opts})


@pytest.mark.parametrize(
    "models,message",
    [
        ({"run": {"arch": "cnn", "train_sigmas": [0.25]}},
         "'run.arch': unknown architecture 'cnn'"),
        ({"models": [{"recipe": "mlp", "sigma0": 0.25}, {"recipe": "cnn", "sigma0": 0.5}]},
         "'models\\[1\\].recipe': unknown architecture 'cnn'"),
        ({"models": [{"recipe": "resnet50", "sigma0": 0.25}]},
         "'models\\[0\\].recipe': architecture 'resnet50' is made for imagenet, and the "
         "run's dataset is digits"),
    ],
)  # fmt: skip
def test_a_recipe_is_an_architecture_for_the_runs_dataset(models, message):
    """Named with its key when the config is read (it failed when the model was built,
    naming no key, or with a shape error from the network)."""
    data = {"run": {"dataset": "digits", **models.get("run", {})}}
    if "models" in models:
        data["models"] = models["models"]
    with pytest.raises(ConfigError, match=message):
        parse(data)


@pytest.mark.parametrize("dataset", ["cifar10", "imagenet"])
def test_a_recipe_is_refused_on_a_dataset_not_trained_here(dataset):
    """Only digits' training set is held here; a CIFAR-10 recipe was accepted and then
    failed with "'NoneType' object is not subscriptable"."""
    arch = {"cifar10": "cifar_resnet20", "imagenet": "resnet50"}[dataset]
    run = {"dataset": dataset, "data_root": "/nowhere"}
    with pytest.raises(ConfigError, match="'models\\[0\\].recipe': a recipe is trained here"):
        parse({"run": run, "models": [{"recipe": arch, "sigma0": 0.25}]})
    with pytest.raises(ConfigError, match="'run.arch': a recipe is trained here, and only digits"):
        parse({"run": {**run, "arch": arch, "train_sigmas": [0.25]}})


def test_a_noise_no_configured_certifier_certifies_is_warned_of():
    """It would be sampled at full cost and then vanish from the report."""
    base = {
        "run": {"dataset": "digits", "arch": "mlp", "train_sigmas": [0.25]},
        "noises": [{"family": "gaussian"}, {"family": "laplace"}],
    }
    with pytest.warns(UserWarning, match=r"noises\[1\]'.*\['cohen'\] certifies laplace noise"):
        parse({**base, "certify": {"certifiers": ["cohen"], "norms": ["l2"]}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parse({**base, "certify": {"certifiers": ["cohen", "wulff"], "norms": ["l1", "l2"]}})
        parse({**base, "certify": {"certifiers": ["all"]}})


def test_a_certifier_named_twice_is_refused():
    with pytest.raises(ConfigError, match=r"certify.certifiers\[2\]': 'cohen' is named twice"):
        parse(with_("certify", certifiers=["cohen", "wulff", "cohen"]))


@pytest.mark.parametrize(
    ("key", "values", "message"),
    [
        ("norms", ["l2", "linf", "l2"], r"certify.norms\[2\]': 'l2' is named twice"),
        ("alpha", [0.001, 0.01, 0.001], r"certify.alpha\[2\]': 0.001 is named twice"),
    ],
)
def test_a_norm_or_alpha_named_twice_is_refused(key, values, message):
    with pytest.raises(ConfigError, match=message):
        parse(with_("certify", **{key: values}))
    parse(with_("certify", **{key: values[:2]}))
