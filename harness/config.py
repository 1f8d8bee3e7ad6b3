"""Experiment configs (TOML), validated with errors that name the offending key.

    [run]            name, dataset, seed, n_test, index_stride | subset, n0, n,
                     batch_size (absent: chosen to fit the device), device, data_root,
                     download, autocast ("none" | "bf16" | "fp16", the forward pass only),
                     channels_last, compile, plugins (files or modules imported
                     first); and either arch | checkpoint with
                     train_sigmas (one model per sigma), or [[models]] entries
    [[models]]       recipe | checkpoint, sigma0, name, training, format, arch,
                     smoothing, trust_pickle, known (``baselines.models.ModelSpec``)
    [[noises]]       family = "...", matched = true (default), shape parameters; a list
                     value expands into a grid (one noise per value)
    [certify]        certifiers = ["all"] | names, norms, alpha = [..],
                     options.<certifier> = {option = value, ...}
    [report]         reference, radii.<norm> = [..], level (``reports.settings``)

With ``matched = true`` each noise is built per model by ``Family.matched(sigma0, dim,
**shape)``, ``sigma0`` being the Gaussian sigma the model was trained with, so that
``E||z||^2 = dim * sigma0^2`` (moment matching, ``Noise.matched``).

``run.subset`` names an index subset of the dataset (``baselines.datasets.SUBSETS``, e.g.
``"cohen2019"``), which fixes ``index_stride`` and ``n_test``. ``run.download = true`` lets
torchvision download CIFAR-10 into ``run.data_root``; nothing is downloaded otherwise. A
model entry with ``known = NAME`` (``baselines.checkpoints.KNOWN_CHECKPOINTS``) takes its
architecture, format and sigma0 from there unless it gives them.

Everything is checked here, before a store is created: budgets within ``LIMITS`` (``n``
and ``n0`` at most 10^9, ``batch_size`` 10^7), sigmas in (0, ``MAX_SIGMA0``], names that
become file names (``smoothbench.safe_names``), ``n0 <= n`` (more selection than
estimation draws is refused), non-empty certifier and norm lists, every noise, built
once at the dataset's dimension for each model's sigma0 (``check_noises``), a noise given
twice named, and something to sample or certify. The reference of every key:
``docs/configs.md``.
"""

from __future__ import annotations

import itertools
import math
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from baselines.models import TRAININGS, ModelSpec, repeated_name
from certifiers.base import NORMS
from certifiers.bounds import DEFAULT_ALPHA, alpha_printed_alike, check_alpha
from harness.noise import Noise, noise_class
from harness.sampler import AUTOCAST_DTYPES, SamplerOptions
from reports.settings import ReportSettings, ReportSettingsError
from smoothbench.names import choices, unknown_name
from smoothbench.plugins import load_plugin
from smoothbench.safe_names import SAFE_NAME_RULE, is_safe_name

if TYPE_CHECKING:
    from baselines.architectures import Architecture

_RUN_KEYS: dict[str, Any] = {
    "name": str,
    "dataset": str,
    "arch": str,
    "checkpoint": str,
    "data_root": str,
    "download": bool,
    "subset": str,
    "train_sigmas": list,
    "seed": int,
    "n_test": int,
    "index_stride": int,
    "n0": int,
    "n": int,
    "batch_size": int,
    "device": str,
    "autocast": str,
    "channels_last": bool,
    "compile": bool,
    "plugins": list,
}
_CERTIFY_KEYS = {"certifiers": list, "norms": list, "alpha": list, "options": dict}
_MODEL_KEYS = {
    "name": str,
    "recipe": str,
    "training": str,
    "checkpoint": str,
    "format": str,
    "arch": str,
    "sigma0": (int, float),
    "smoothing": bool,
    "trust_pickle": bool,
    "known": str,
}
_SECTIONS = {"run", "models", "noises", "certify", "report"}

#: Upper limits of the budgets, so that a typo (10^30 draws) is refused at parse time
#: with the key named instead of running forever. ``n`` and ``n0`` are Monte Carlo draws
#: per image and noise; ``n_test`` and ``index_stride`` index the test set.
LIMITS: dict[str, int] = {
    "run.n": 10**9,
    "run.n0": 10**9,
    "run.batch_size": 10**7,
    "run.n_test": 10**7,
    "run.index_stride": 10**7,
    "run.seed": 2**63 - 1,
}
#: The largest training / matching sigma0 accepted (images live in [0, 1]).
MAX_SIGMA0 = 100.0
#: The largest root mean square per coordinate of a noise: far beyond any image (in
#: [0, 1]) and still far below float32's 3.4e38, in which the noise is added.
MAX_NOISE_RMS = 1e30


class ConfigError(ValueError):
    """A config that cannot be run; the message names the key, on one line (a line break
    that a key or a wrapped error carries is written as ``\\n``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message.replace("\r", "\\r").replace("\n", "\\n"))


@dataclass(frozen=True)
class NoiseEntry:
    family: str
    matched: bool
    params: dict[str, Any]


@dataclass(frozen=True)
class Config:
    name: str
    models: tuple[ModelSpec, ...]
    dataset: str
    arch: str | None
    checkpoint: str | None
    data_root: str | None
    train_sigmas: tuple[float, ...]
    seed: int
    n_test: int
    index_stride: int
    n0: int
    n: int
    batch_size: int | None
    device: str
    noises: tuple[NoiseEntry, ...]
    certifiers: tuple[str, ...]
    norms: tuple[str, ...]
    alphas: tuple[float, ...]
    report: ReportSettings = field(default_factory=ReportSettings)
    certifier_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    subset: str | None = None
    download: bool = False
    autocast: str | None = None
    channels_last: bool = False
    compile: bool = False
    plugins: tuple[str, ...] = ()

    def sampler_options(self) -> SamplerOptions:
        """How the models' forward passes run (``harness.sampler.SamplerOptions``)."""
        return SamplerOptions(self.autocast, self.channels_last, self.compile)


def _type_name(t: Any) -> str:
    names = {str: "a string", int: "an integer", list: "a list", dict: "a table"}
    names.update({bool: "true or false", (int, float): "a number"})
    return names[t]


def _check_keys(section: str, table: Any, allowed: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"config section [{section}] must be a table")
    for key, value in table.items():
        name = repr(f"{section}.{key}")  # a key holding a newline stays on one line
        if key not in allowed:
            raise ConfigError(unknown_name("config key", key, allowed, prefix=f"{section}."))
        want = allowed[key]
        if want is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"config key {name} must be an integer, got {value!r}")
        if want is not int and not isinstance(value, want):
            raise ConfigError(f"config key {name} must be {_type_name(want)}, got {value!r}")
    return table


def _positive_int(key: str, value: int) -> int:
    if value < 1:
        raise ConfigError(f"config key '{key}' must be >= 1, got {value}")
    limit = LIMITS.get(key)
    if limit is not None and value > limit:
        raise ConfigError(f"config key '{key}' must be at most {limit:.0e}, got {value}")
    return value


def _positive_float(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"config key '{key}' must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"config key '{key}' must be positive and finite, got {value!r}")
    return float(value)


def _device(value: str) -> str:
    """``run.device`` checked for its form (its presence is checked when the run starts)."""
    if value != "auto":
        from harness.draws import parse_device

        try:
            parse_device(value)
        except ValueError as err:
            raise ConfigError(f"config key 'run.device': {err}") from None
    return value


def _sigma0(key: str, value: Any) -> float:
    """A training sigma: positive and at most ``MAX_SIGMA0``."""
    sigma = _positive_float(key, value)
    if sigma > MAX_SIGMA0:
        raise ConfigError(f"config key '{key}' must lie in (0, {MAX_SIGMA0:g}], got {value!r}")
    return sigma


def _named_once(key: str, values: tuple) -> None:
    """Refuse the last of ``values`` (a config list so far: certifiers, norms, alphas) if
    it names an earlier one again."""
    if values[-1] in values[:-1]:
        raise ConfigError(f"config key '{key}[{len(values) - 1}]': {values[-1]!r} is named twice")


def _safe_name(key: str, value: str) -> str:
    """A name that becomes a file name: letters, digits and ``._+=-``, at most 100."""
    if not is_safe_name(value):
        raise ConfigError(
            f"config key '{key}' is {value!r}: {SAFE_NAME_RULE}, since it becomes a file name"
        )
    return value


def expand_noise(entry: dict[str, Any], where: str) -> list[NoiseEntry]:
    """One ``[[noises]]`` table -> one entry per point of its parameter grid."""
    from harness.noise import NOISES, noise_families

    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table")
    if "family" not in entry:
        raise ConfigError(f"config key '{where}.family' is missing")
    family = entry["family"]
    if family not in noise_families():
        raise ConfigError(f"config key '{where}.family': {NOISES.unknown(family)}")
    matched = entry.get("matched", True)
    if not isinstance(matched, bool):
        raise ConfigError(f"config key '{where}.matched' must be true or false")
    shape = {k: v for k, v in entry.items() if k not in ("family", "matched")}
    grids = {k: (v if isinstance(v, list) else [v]) for k, v in shape.items()}
    for k, values in grids.items():
        if not values:
            raise ConfigError(f"config key {f'{where}.{k}'!r} is an empty list")
    keys = sorted(grids)
    return [
        NoiseEntry(family, matched, dict(zip(keys, combo, strict=True)))
        for combo in itertools.product(*(grids[k] for k in keys))
    ]


def build_noise(entry: NoiseEntry, sigma0: float, dim: int) -> Noise:
    """The noise of a config entry for a model trained with Gaussian ``sigma0``."""
    cls = noise_class(entry.family)
    cls.check_param_names(entry.params, matched=entry.matched)
    try:
        if entry.matched:
            return cls.matched(sigma0, dim=dim, **entry.params)
        return cls(dim=dim, **entry.params)
    except TypeError as err:
        raise ValueError(f"noise {entry.family} with {entry.params}: {err}") from None


def check_noises(entries: list[tuple[NoiseEntry, str]], sigmas: list[float], dim: int) -> None:
    """Build every noise once for each model's ``sigma0`` at the dataset's ``dim`` (cheap:
    constructors validate, tables are built later by ``Noise.prepare``), so that a bad
    parameter or a noise defined twice is refused before anything is written."""
    for sigma0 in sigmas:
        seen: dict[str, str] = {}
        for entry, where in entries:
            try:
                noise = build_noise(entry, sigma0, dim)
            except (ValueError, TypeError, OverflowError, ZeroDivisionError) as err:
                raise ConfigError(f"config key '{where}' ({entry.family}): {err}") from None
            try:
                rms = math.sqrt(noise.second_moment() / dim)  # inf: a heavy tail, allowed
            except OverflowError:
                rms = math.nan  # a scale so large its moment overflows a float64
            if math.isnan(rms) or (math.isfinite(rms) and rms > MAX_NOISE_RMS):
                raise ConfigError(
                    f"config key '{where}' ({entry.family}): {noise.name} has a root mean "
                    f"square per coordinate of {'over 1e154' if math.isnan(rms) else f'{rms:.3g}'}"
                    "; float32, in which the noise is added, cannot hold such noise (images "
                    "lie in [0, 1])"
                )
            if noise.name in seen:
                first = seen[noise.name]
                again = (
                    "gives noise {} twice (a grid repeats a value)"
                    if first == where
                    else f"defines noise {{}} again (as {first} does)"
                )
                raise ConfigError(
                    f"config key '{where}' {again.format(noise.name)}; give each noise once"
                )
            seen[noise.name] = where


def _parse_models(
    data: dict[str, Any], run: dict[str, Any], source: str
) -> tuple[tuple[ModelSpec, ...], tuple[float, ...]]:
    """The ``[[models]]`` entries, or the models that ``run.arch``/``run.checkpoint`` with
    ``run.train_sigmas`` stand for (one per sigma; a checkpoint takes one sigma)."""
    legacy = [k for k in ("arch", "checkpoint", "train_sigmas") if k in run]
    if "models" in data:
        if legacy:
            raise ConfigError(
                f"{source}: give the models either as [[models]] entries or with "
                f"'run.{legacy[0]}', not both"
            )
        entries = data["models"]
        if not isinstance(entries, list) or not entries:
            raise ConfigError("config key 'models' must be a non-empty array of tables [[models]]")
        specs = tuple(_model_spec(e, f"models[{i}]", run["dataset"]) for i, e in enumerate(entries))
        repeated = repeated_name(specs, run["dataset"])
        if repeated is not None:
            i, j, name = repeated
            raise ConfigError(
                f"config key 'models[{i}].name': model {name!r} is models[{j}] already (the "
                "same name, file or recipe); give each model its own 'name'"
            )
        sigmas = tuple(s.sigma0 for s in specs if s.sigma0 is not None)
        return specs, sigmas
    if "train_sigmas" not in run:
        raise ConfigError(
            f"{source}: no models: give [[models]] entries, or 'run.arch' (or "
            "'run.checkpoint') with 'run.train_sigmas'"
        )
    if ("arch" in run) == ("checkpoint" in run):
        raise ConfigError(f"{source}: give exactly one of 'run.arch' and 'run.checkpoint'")
    sigmas = tuple(_sigma0(f"run.train_sigmas[{i}]", s) for i, s in enumerate(run["train_sigmas"]))
    if not sigmas:
        raise ConfigError("config key 'run.train_sigmas' is empty")
    repeated = sorted({s for s in sigmas if sigmas.count(s) > 1})
    if repeated:
        raise ConfigError(
            f"config key 'run.train_sigmas' repeats {', '.join(f'{s:g}' for s in repeated)}: "
            "one model per sigma"
        )
    if "checkpoint" in run:
        if len(sigmas) != 1:
            raise ConfigError(
                "config key 'run.train_sigmas' must hold one sigma with 'run.checkpoint' "
                "(to compare several checkpoints, give one [[models]] entry each)"
            )
        return (ModelSpec(checkpoint=run["checkpoint"], sigma0=sigmas[0]),), sigmas
    _check_recipe("run.arch", run["arch"], run["dataset"])
    specs = tuple(ModelSpec(recipe=run["arch"], sigma0=s) for s in sigmas)
    repeated = repeated_name(specs, run["dataset"])
    if repeated is not None:  # sigmas that differ but print alike, as the names print them
        i, j, name = repeated
        raise ConfigError(
            f"config key 'run.train_sigmas[{i}]' is {sigmas[i]!r}, and train_sigmas[{j}] "
            f"{sigmas[j]!r}: both models would be named {name!r}; give sigmas that differ "
            "in their first six digits, or [[models]] entries with a 'name' each"
        )
    return specs, sigmas


def _known_architecture(key: str, name: Any) -> Architecture:
    """The architecture ``name`` of ``baselines.architectures``, or an error naming ``key``."""
    from baselines.architectures import ARCHITECTURES

    if not isinstance(name, str) or name not in ARCHITECTURES:
        raise ConfigError(
            f"config key '{key}': {unknown_name('architecture', name, ARCHITECTURES)}"
        )
    return ARCHITECTURES[name]


def _check_recipe(key: str, name: Any, dataset: str) -> None:
    """A recipe names an architecture made for the run's dataset, and the dataset is one
    whose training set is held here (``baselines.datasets.TRAINABLE_HERE``)."""
    from baselines.datasets import TRAINABLE_HERE

    made_for = _known_architecture(key, name).dataset
    if made_for != dataset:
        raise ConfigError(
            f"config key '{key}': architecture {name!r} is made for {made_for}, and the "
            f"run's dataset is {dataset}"
        )
    if dataset not in TRAINABLE_HERE:
        raise ConfigError(
            f"config key '{key}': a recipe is trained here, and only "
            f"{', '.join(TRAINABLE_HERE)} can be; a {dataset} model is a checkpoint "
            "([[models]] checkpoint = PATH with arch, or known = NAME: `smoothbench list` "
            "names the known ones)"
        )


def _model_spec(entry: Any, where: str, dataset: str) -> ModelSpec:
    table = dict(_check_keys(where, entry, _MODEL_KEYS))
    if "name" in table:
        _safe_name(f"{where}.name", table["name"])
    if "known" in table:
        table = _with_known(table, where)
    if ("recipe" in table) == ("checkpoint" in table):
        raise ConfigError(f"config key '{where}': give exactly one of 'recipe' and 'checkpoint'")
    if "recipe" in table:
        _check_recipe(f"{where}.recipe", table["recipe"], dataset)
        for key in ("arch", "format"):
            if key in table:
                raise ConfigError(
                    f"config key '{where}.{key}': a recipe names its own architecture and "
                    f"is trained here ({key} is for checkpoints)"
                )
    if "training" in table:
        if "recipe" not in table:
            raise ConfigError(
                f"config key '{where}.training': a checkpoint is not trained here "
                "(training is for recipes)"
            )
        if table["training"] not in TRAININGS:
            raise ConfigError(
                f"config key '{where}.training': "
                f"{unknown_name('training', table['training'], TRAININGS)}"
            )
    if "format" in table:
        from baselines.checkpoints import format_names

        if table["format"] not in format_names():
            raise ConfigError(
                f"config key '{where}.format': "
                f"{unknown_name('format', table['format'], format_names())}"
            )
    if "arch" in table:
        _known_architecture(f"{where}.arch", table["arch"])
    smoothing = table.get("smoothing", True)
    sigma0 = table.get("sigma0")
    if sigma0 is not None:
        sigma0 = _sigma0(f"{where}.sigma0", sigma0)
    elif smoothing:
        raise ConfigError(
            f"config key '{where}.sigma0' is missing: the Gaussian sigma the model was "
            "trained with, to which the noises are matched (or set smoothing = false)"
        )
    return ModelSpec(**{**table, "sigma0": sigma0})


def _with_known(table: dict[str, Any], where: str) -> dict[str, Any]:
    """Fill a ``known = NAME`` entry's arch, format and sigma0 from the known checkpoint;
    values the entry gives must agree with it (sigma0 is chosen only for a model not
    trained with Gaussian noise, whose entry holds none), and a checkpoint path that ends
    in another known checkpoint's release path (``noise_0.50`` under ``noise0.25``, a
    slip between entries) is refused: the file is the only tie between model and name."""
    from baselines.checkpoints.known import KNOWN_CHECKPOINTS

    name = table["known"]
    if name not in KNOWN_CHECKPOINTS:
        raise ConfigError(
            f"config key '{where}.known': {unknown_name('checkpoint', name, KNOWN_CHECKPOINTS)}"
        )
    known = KNOWN_CHECKPOINTS[name]
    if "checkpoint" not in table:
        raise ConfigError(
            f"config key '{where}.checkpoint' is missing: the path of your copy of {name} "
            f"(in its release: {known.path}); nothing is downloaded"
        )
    for key in ("arch", "format"):
        given = table.get(key)
        if given is not None and given not in ("auto", getattr(known, key)):
            raise ConfigError(
                f"config key '{where}.{key}' is {given!r}, but {name} is "
                f"{getattr(known, key)!r}; leave it out"
            )
    given = table.get("sigma0")
    if known.sigma0 is not None and given is not None and given != known.sigma0:
        raise ConfigError(
            f"config key '{where}.sigma0' is {given!r}, but {name} was trained with "
            f"sigma0 = {known.sigma0}; leave it out (to smooth it with another noise, give "
            "that noise 'matched = false' and its own parameters)"
        )
    path = "/" + PurePath(str(table["checkpoint"])).as_posix()
    released = [n for n, k in KNOWN_CHECKPOINTS.items() if path.endswith("/" + k.path)]
    if released and name not in released:
        raise ConfigError(
            f"config key '{where}.checkpoint' is {table['checkpoint']!r}, the release path "
            f"of {released[0]}, not of {name} ({known.path}); is it the other entry's file?"
        )
    out = {**table, "arch": known.arch, "format": known.format}
    if given is None and known.sigma0 is not None:
        out["sigma0"] = known.sigma0
    return out


def _index_set(run: dict[str, Any]) -> tuple[int, int]:
    """``(index_stride, n_test)``: from ``run.subset`` when it names one (explicit values
    must agree with it), else from the keys themselves."""
    stride = _positive_int("run.index_stride", run.get("index_stride", 1))
    n_test = _positive_int("run.n_test", run.get("n_test", 200))
    if "subset" not in run:
        return stride, n_test
    from baselines.datasets import named_subset

    try:
        subset = named_subset(run["dataset"], run["subset"])
    except ValueError as err:
        raise ConfigError(f"config key 'run.subset': {err}") from None
    for key, value in (("index_stride", subset.stride), ("n_test", subset.count)):
        if key in run and run[key] != value:
            raise ConfigError(
                f"config key 'run.{key}' is {run[key]}, but subset {subset.name!r} of "
                f"{subset.dataset} has {key} = {value}; leave it out"
            )
    return subset.stride, subset.count


def _warn_uncertified(
    entries: list[tuple[NoiseEntry, str]],
    names: tuple[str, ...],
    norms: tuple[str, ...],
    options: dict[str, dict[str, Any]],
    sigma0: float,
    dim: int,
) -> None:
    """A warning for each noise that none of the configured certifiers certifies against
    any configured norm: it would be sampled at full cost and then have no certificate
    and no row in the report."""
    import certifiers

    chosen = certifiers.available() if "all" in names else names
    instances = [
        certifiers.get(n, **options.get(n, {}))
        for n in chosen
        if not certifiers.is_deterministic(n)
    ]
    for entry, where in entries:
        noise = build_noise(entry, sigma0, dim)
        if not any(c.supports(noise, norm) for c in instances for norm in norms):
            warnings.warn(
                f"config key '{where}': none of the certifiers {list(chosen)} certifies "
                f"{noise.family} noise against {', '.join(norms)}, so it is sampled but gets "
                "no certificate and no row in the report (`smoothbench list` says which "
                "certifier certifies what)",
                stacklevel=2,
            )


def _load_plugins(plugins: list[Any], source: str) -> tuple[str, ...]:
    """``run.plugins``: files (relative to the config's folder) or modules, imported
    before the noises and certifiers are looked up (``smoothbench.plugins``)."""
    folder = Path(source).parent if Path(source).is_file() else None
    loaded = []
    for i, plugin in enumerate(plugins):
        if not isinstance(plugin, str):
            raise ConfigError(
                f"config key 'run.plugins[{i}]' must be a .py file or a module name, got {plugin!r}"
            )
        try:
            loaded.append(load_plugin(plugin, folder))
        except (ValueError, FileNotFoundError) as err:
            raise ConfigError(f"config key 'run.plugins[{i}]': {err}") from None
    return tuple(loaded)


def parse(data: dict[str, Any], source: str = "<config>") -> Config:
    """Validate a parsed TOML document."""
    for section in data:
        if section not in _SECTIONS:
            raise ConfigError(
                f"{source}: unknown config section [{section}]; {choices(section, _SECTIONS)}"
            )
    if "run" not in data:
        raise ConfigError(f"{source}: the [run] section is missing")
    run = _check_keys("run", data["run"], _RUN_KEYS)
    plugins = _load_plugins(run.get("plugins", []), source)
    if "dataset" not in run:
        raise ConfigError(f"{source}: config key 'run.dataset' is missing")
    from baselines.datasets import INPUT_SHAPES

    if run["dataset"] not in INPUT_SHAPES:
        raise ConfigError(
            f"config key 'run.dataset': {unknown_name('dataset', run['dataset'], INPUT_SHAPES)}"
        )
    run_name = _safe_name("run.name", run["name"]) if "name" in run else Path(source).stem
    models, sigmas = _parse_models(data, run, source)
    index_stride, n_test = _index_set(run)
    seed = run.get("seed", 0)
    if seed < 0:
        raise ConfigError(f"config key 'run.seed' must be >= 0, got {seed}")
    if seed > LIMITS["run.seed"]:
        raise ConfigError(f"config key 'run.seed' must be below 2^63, got {seed}")
    n0 = _positive_int("run.n0", run.get("n0", 100))
    n = _positive_int("run.n", run.get("n", 10_000))
    if n0 > n:
        raise ConfigError(
            f"config key 'run.n0' is {n0}, more than 'run.n' = {n}: the selection draws "
            "(n0) only choose the class whose probability the n estimation draws bound; "
            "give n0 <= n"
        )

    noises_raw = data.get("noises", [{"family": "gaussian"}])
    if not isinstance(noises_raw, list) or not noises_raw:
        raise ConfigError("config key 'noises' must be a non-empty array of tables [[noises]]")
    where = [
        (e, f"noises[{i}]")
        for i, entry in enumerate(noises_raw)
        for e in expand_noise(entry, f"noises[{i}]")
    ]
    noises = tuple(e for e, _ in where)
    dim = math.prod(INPUT_SHAPES[run["dataset"]])
    smoothed = sorted({m.sigma0 for m in models if m.smoothing and m.sigma0 is not None})
    check_noises(where, smoothed or [1.0], dim)

    certify = _check_keys("certify", data.get("certify", {}), _CERTIFY_KEYS)
    names = tuple(certify.get("certifiers", ["all"]))
    if not names:
        raise ConfigError("config key 'certify.certifiers' is empty: name certifiers, or [\"all\"]")
    import certifiers

    for i, name in enumerate(names):
        if name != "all" and name not in certifiers.available():
            raise ConfigError(
                f"config key 'certify.certifiers[{i}]': "
                f"{certifiers.CERTIFIERS.unknown(name, extra=['all'])}"
            )
        _named_once("certify.certifiers", names[: i + 1])
    norms = tuple(certify.get("norms", list(NORMS)))
    if not norms:
        raise ConfigError(f"config key 'certify.norms' is empty: name some of {list(NORMS)}")
    for i, norm in enumerate(norms):
        if norm not in NORMS:
            raise ConfigError(
                f"config key 'certify.norms[{i}]': {unknown_name('norm', norm, NORMS)}"
            )
        _named_once("certify.norms", norms[: i + 1])
    alphas = tuple(certify.get("alpha", [DEFAULT_ALPHA]))
    for i, a in enumerate(alphas):
        try:
            check_alpha(a)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"config key 'certify.alpha[{i}]': {err}") from None
        _named_once("certify.alpha", alphas[: i + 1])
        if (alike := alpha_printed_alike(a, alphas[:i])) is not None:
            raise ConfigError(
                f"config key 'certify.alpha[{i}]' is {a!r}, and {alike!r} is named before: "
                f"both print as {a:g}, so the report could not tell their tables and files "
                "apart; give alphas that differ in their first six digits"
            )
    if not alphas:
        raise ConfigError("config key 'certify.alpha' is empty")

    options: dict[str, dict[str, Any]] = {}
    for name, opts in certify.get("options", {}).items():
        key = repr(f"certify.options.{name}")
        if name not in certifiers.available():
            raise ConfigError(f"config key {key}: {certifiers.CERTIFIERS.unknown(name)}")
        if not isinstance(opts, dict):
            raise ConfigError(f"config key {key} must be a table of options")
        try:
            certifiers.get(name, **opts)
        except (ValueError, TypeError) as err:
            raise ConfigError(f"config key {key}: {err}") from None
        options[name] = dict(opts)
        if "all" not in names and name not in names:
            warnings.warn(
                f"config key {key}: {name!r} is not among certify.certifiers "
                f"{list(names)}, so these options are not used",
                stacklevel=3,
            )
    if smoothed:  # no smoothed model: no noise is sampled (nothing to do is refused below)
        _warn_uncertified(where, names, norms, options, smoothed[0], dim)

    try:
        report = ReportSettings.from_table(data.get("report"))
    except ReportSettingsError as err:
        raise ConfigError(str(err)) from None
    if report.reference not in certifiers.available():
        raise ConfigError(
            f"config key 'report.reference': {certifiers.CERTIFIERS.unknown(report.reference)}"
        )
    if certifiers.is_deterministic(report.reference):
        monte_carlo = [n for n in certifiers.available() if not certifiers.is_deterministic(n)]
        raise ConfigError(
            f"config key 'report.reference' is {report.reference!r}, a deterministic "
            "certifier (a bound over an input box, not Monte Carlo counts): the reference "
            f"is the Monte Carlo certifier others are compared with, one of {monte_carlo}"
        )
    chosen = certifiers.available() if "all" in names else list(names)
    deterministic = [n for n in chosen if certifiers.is_deterministic(n)]
    smoothing = any(m.smoothing for m in models)
    counted = smoothing and len(deterministic) < len(chosen)
    given = "reference" in (data.get("report") or {})  # cohen by default: report --reference
    if given and counted and report.reference not in chosen:  # else found after the run
        warnings.warn(  # not refused: the store may hold its rows (an earlier certify)
            f"config key 'report.reference' is {report.reference!r}, which "
            f"certify.certifiers {list(names)} leaves out: the report compares every row "
            "with the reference's, so it needs them from elsewhere (an earlier session, "
            f"`smoothbench certify --certifier {report.reference}`, an import)",
            stacklevel=3,
        )
    if not smoothing and not deterministic:
        raise ConfigError(
            f"{source}: every model has smoothing = false and none of certify.certifiers "
            f"{list(names)} is deterministic (a bound over an input box): the run would "
            "sample and certify nothing; add a smoothed model, or a deterministic certifier "
            f"({[n for n in certifiers.available() if certifiers.is_deterministic(n)]})"
        )

    autocast = run.get("autocast", "none")
    if autocast not in ("none", *AUTOCAST_DTYPES):
        raise ConfigError(
            f"config key 'run.autocast' must be one of 'none', 'bf16', 'fp16', got {autocast!r}"
        )
    autocast = None if autocast == "none" else autocast

    return Config(
        name=run_name,
        dataset=run["dataset"],
        models=models,
        arch=run.get("arch"),
        checkpoint=run.get("checkpoint"),
        data_root=run.get("data_root"),
        train_sigmas=sigmas,
        seed=seed,
        n_test=n_test,
        index_stride=index_stride,
        n0=n0,
        n=n,
        batch_size=(
            _positive_int("run.batch_size", run["batch_size"]) if "batch_size" in run else None
        ),
        device=_device(run.get("device", "auto")),
        noises=noises,
        certifiers=names,
        norms=norms,
        alphas=tuple(float(a) for a in alphas),
        report=report,
        certifier_options=options,
        raw=data,
        subset=run.get("subset"),
        download=run.get("download", False),
        autocast=autocast,
        channels_last=run.get("channels_last", False),
        compile=run.get("compile", False),
        plugins=plugins,
    )


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def load(path: str | Path) -> Config:
    """Read and validate a TOML config file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no config file at {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        hint = (
            " (an SQLite file, a store? run takes the config, then --store)"
            if _is_sqlite(path)
            else ""
        )
        raise ConfigError(f"{path}: not a TOML config: not UTF-8 text{hint}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    return parse(data, str(path))
