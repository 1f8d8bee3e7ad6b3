"""A run's identity: the manifest fields that decide its counts, which a resumed run must
share with the stored one."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from typing import Any

import torch

from baselines.models import ModelEntry
from harness.config import Config, expand_noise
from harness.draws import CHUNK_ROWS, LEGACY_CPU_SOURCE, draw_method
from harness.noise import noise_class
from harness.noise.registry import family_source, source_change
from harness.store import Store
from smoothbench.plugins import stable_module_name


def identity(
    cfg: Config,
    dataset: str,
    index_set: Sequence[int],
    models: Sequence[ModelEntry],
    device: torch.device,
    data_checksum: str | None = None,
    data_sha256: str | None = None,
) -> dict[str, Any]:
    """Everything that decides the counts (not the batch size, the executor, the
    certifiers or the report): the draw method, the noises' changed couplings
    (``noise_couplings``) and the device type among them, the named
    index subset (``run.subset``) and a digest of the data files read (``data_checksum``,
    e.g. the md5 of CIFAR-10's test batch) and of the images and labels of the index set
    (``data_sha256``, ``baselines.datasets.content_sha256``), so that data changed in place
    is refused on resume. Order-free where order decides no count: the
    models are keyed by name, the noises sorted (``canonical_sampling_config``)."""
    run_section = {
        k: v
        for k, v in cfg.raw.get("run", {}).items()
        if k not in ("batch_size", "device", "download")
    }
    ident = {
        "seed": cfg.seed,
        "n0": cfg.n0,
        "n": cfg.n,
        "dataset": dataset,
        "index_set": [int(i) for i in index_set],
        "subset": cfg.subset,
        "data_checksum": data_checksum,
        "data_sha256": data_sha256,
        "models": {
            m.name: {
                "sha256": m.sha256,
                "sigma0": m.sigma0,
                "smoothing": m.spec.smoothing if m.spec is not None else True,
                "module": module_fingerprint(m.model),
            }
            for m in models
        },
        "device_type": device.type,
        "torch_version": torch.__version__,
        "chunk_rows": CHUNK_ROWS,
        "draw_method": draw_method(device),
        "sampling_config": canonical_sampling_config(
            {"run": run_section, "noises": cfg.raw.get("noises")}
        ),
    }
    couplings = noise_couplings(cfg)
    if couplings:
        ident["noise_couplings"] = couplings
    sources = noise_sources(cfg)
    if sources:
        ident["noise_sources"] = sources
    return ident


def module_fingerprint(model: torch.nn.Module) -> str:
    """The sha256 of the model as it was read: the class of every submodule, and the name,
    dtype, shape and bytes of every parameter and buffer (those a state_dict leaves out
    too). A file's sha256 does not decide the model: Cohen et al.'s ``cifar_resnet110``
    and Salman et al.'s ``cifar_resnet110_centered`` read the same checkpoint with other
    first layers (``baselines.architectures``), which differ only in a buffer that no
    checkpoint stores. A class from a plugin file is named by the file's name, not by
    where it lies (``smoothbench.plugins.stable_module_name``)."""
    digest = hashlib.sha256()
    for name, module in model.named_modules():
        kind = type(module)
        where = stable_module_name(kind.__module__)
        digest.update(f"module {name} {where}.{kind.__qualname__}\n".encode())
    tensors = [*model.named_parameters(), *model.named_buffers()]
    for name, tensor in tensors:
        value = tensor.detach()
        digest.update(f"tensor {name} {value.dtype} {tuple(value.shape)}\n".encode())
        digest.update(_tensor_bytes(value))
    return digest.hexdigest()


def _tensor_bytes(value: torch.Tensor) -> bytes:
    """The bytes of a tensor's values: its memory where it is a plain (strided) tensor,
    else (sparse, quantized, ...) the text of its dense values."""
    value = value.cpu()
    if value.layout == torch.strided and not value.is_quantized:
        return value.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
    dense = value.to_dense() if value.layout != torch.strided else value
    if dense.is_quantized:
        dense = dense.dequantize()
    return repr(dense.tolist()).encode()


def noise_sources(cfg: Config) -> dict[str, str]:
    """For each noise family of the config defined outside this package (a plugin), the
    digest of the code that defines it as it was registered (``family_source``: the sha256
    of its class's file, and of its bases' in other files of the plugin): a plugin edited
    between a run and its resumption could map the same draws to other samples, under the
    same noise name (the built-in families state such a change in ``coupling_version``).
    Absent while every family is built in."""
    sources = {family: family_source(family) for family in sorted({e.family for e in cfg.noises})}
    return {family: digest for family, digest in sources.items() if digest is not None}


def noise_couplings(cfg: Config) -> dict[str, int]:
    """The coupling version of each noise family of the config whose transform changed
    since stores began (``Noise.coupling_version`` above 1); absent from the identity
    while there is none, so that stores written before the key resume as before."""
    families = {e.family for e in cfg.noises}
    versions = {f: noise_class(f).coupling_version for f in sorted(families)}
    return {f: v for f, v in versions.items() if v != 1}


def canonical_noises(noises: Any) -> list[dict[str, Any]]:
    """The ``[[noises]]`` of a config as a sorted list of single noises (``family``,
    ``matched``, ``params``), so that neither the order of the tables nor that of a grid's
    values changes a run's identity. Accepts the raw tables (as in the config, or as
    stores written before this form recorded them) and the form itself."""
    if noises is None:
        noises = [{"family": "gaussian"}]
    if not isinstance(noises, list):
        return noises
    out = []
    for i, table in enumerate(noises):
        if isinstance(table, dict) and set(table) == {"family", "matched", "params"}:
            out.append(table)
            continue
        try:
            entries = expand_noise(table, f"noises[{i}]")
        except ValueError:
            return noises  # not a config's noises: compared as stored
        out += [{"family": e.family, "matched": e.matched, "params": e.params} for e in entries]
    return sorted(out, key=lambda e: json.dumps(e, sort_keys=True, default=str))


#: ``[run]`` keys that the identity records elsewhere in normal form (the seed, the budgets,
#: the dataset, the index set and subset; ``train_sigmas``, each model's ``sigma0``, so that
#: a sigma added extends the run as a ``[[models]]`` entry added does) or that decide no
#: count themselves: the run's name is a label, the data and checkpoint files are recorded
#: by their digests, not by where they lie, and the plugin files by what they define (a
#: noise family's source, ``noise_sources``; a model's module classes and tensors,
#: ``module_fingerprint``, which does not see the code of a class's ``forward``), so that
#: a plugin named to add a noise extends the run.
_RUN_KEYS_RECORDED_ELSEWHERE = frozenset(
    ("name", "seed", "n0", "n", "dataset", "n_test", "index_stride", "subset", "data_root",
     "checkpoint", "plugins", "train_sigmas")
)  # fmt: skip
#: The defaults of the ``[run]`` keys left, so that a default written out equals its absence.
_RUN_DEFAULTS = {"autocast": "none", "channels_last": False, "compile": False}


def canonical_sampling_config(value: Any) -> Any:
    """``sampling_config`` reduced to what decides a count and is recorded nowhere else:
    the order of noises and grid values removed, the ``[run]`` keys of
    ``_RUN_KEYS_RECORDED_ELSEWHERE`` dropped and defaults filled in (``_RUN_DEFAULTS``), so
    that renaming a run or writing ``seed = 0`` out does not refuse its resumption."""
    if not isinstance(value, dict):
        return value
    out = dict(value)
    run = out.get("run")
    if isinstance(run, dict):
        run = {k: v for k, v in run.items() if k not in _RUN_KEYS_RECORDED_ELSEWHERE}
        out["run"] = {**_RUN_DEFAULTS, **run}
    out["noises"] = canonical_noises(out.get("noises"))
    return out


def _canonical(key: str, value: Any) -> Any:
    if key == "draw_method" and isinstance(value, str):
        return value.replace(f"/{LEGACY_CPU_SOURCE}", "/numpy-sfc64")  # a name, no change
    return canonical_sampling_config(value) if key == "sampling_config" else value


def difference(stored: Any, now: Any, where: str) -> str | None:
    """Where two manifest values first differ, with both values in full there
    (``where``: the key path so far), or ``None`` if they are equal. Lists of tables
    (the noises) are compared as sets: one table changed is followed into (its index
    the stored one's), else the tables stored and not given now are listed, and the
    reverse."""
    if stored == now:
        return None
    if isinstance(stored, dict) and isinstance(now, dict):
        for key in sorted(set(stored) | set(now), key=str):
            path = f"{where}.{key}"
            if key not in now:
                return f"'{path}': stored {stored[key]!r}, now absent"
            if key not in stored:
                return f"'{path}': absent in the store, now {now[key]!r}"
            found = difference(stored[key], now[key], path)
            if found is not None:
                return found
    if isinstance(stored, list) and isinstance(now, list):
        if all(isinstance(v, dict) for v in stored + now):  # tables (noises): as sets
            gone = [v for v in stored if v not in now]
            new = [v for v in now if v not in stored]
            if len(gone) == len(new) == 1:  # one table changed: where within it
                return difference(gone[0], new[0], f"{where}[{stored.index(gone[0])}]")
            if gone or new:
                return f"'{where}': stored, not now: {gone!r}; now, not stored: {new!r}"
        if len(stored) != len(now):
            return f"'{where}': stored {stored!r} ({len(stored)} items), now {now!r} ({len(now)})"
        for i, (a, b) in enumerate(zip(stored, now, strict=True)):
            found = difference(a, b, f"{where}[{i}]")
            if found is not None:
                return found
    return f"'{where}': stored {stored!r}, now {now!r}"


def _without_fingerprints(models: Any) -> Any:
    if not isinstance(models, dict):
        return models
    return {
        name: {k: v for k, v in e.items() if k != "module"} if isinstance(e, dict) else e
        for name, e in models.items()
    }


def read_differently(stored: Any, now: dict[str, Any]) -> list[str]:
    """The models whose fingerprint (``module_fingerprint``) differs from the stored one.
    A store written before fingerprints recorded none: its models resume as before, told
    apart by their files only."""
    if not isinstance(stored, dict):
        return []
    return [
        name
        for name, entry in now.items()
        if isinstance(before := stored.get(name), dict)
        and "module" in before
        and isinstance(entry, dict)
        and before["module"] != entry.get("module")
    ]


#: Identity keys a run without such noises leaves out (``noise_couplings``,
#: ``noise_sources``), compared all the same where the store holds them.
_ABSENT_WHILE_EMPTY = ("noise_couplings", "noise_sources")


def added_to_stored(stored: dict[str, Any], ident: dict[str, Any]) -> tuple[dict, dict]:
    """``(ident as the stored run's, what it adds)``: where the config holds every stored
    model (by name) and every stored noise (a table of ``canonical_noises``), the models
    and noises it adds are taken out of ``ident``, with the coupling versions and plugin
    sources of families no stored noise has; ``what it adds`` names them (``models``,
    ``noises``: lists, empty where none). Where a stored model or noise is missing, or
    ``ident`` is not a run's, ``ident`` is returned whole and nothing is added, so that
    the comparison names what differs.

    A run extended so samples only the missing counts (of the new (model, noise) pairs,
    and any the stored run had not finished), on the base draws every model and noise of
    an image shares (addressed by seed, image, stream and chunk, not by model or noise),
    so the store ends as a run of the whole config from the start would write it."""
    added: dict[str, list] = {"models": [], "noises": []}
    out = dict(ident)
    models, before = ident.get("models"), stored.get("models")
    if isinstance(models, dict) and isinstance(before, dict) and set(before) <= set(models):
        out["models"] = {name: models[name] for name in before}
        added["models"] = sorted(set(models) - set(before))
    config = _canonical("sampling_config", ident.get("sampling_config"))
    held = _canonical("sampling_config", stored.get("sampling_config"))
    noises = config.get("noises") if isinstance(config, dict) else None
    kept = held.get("noises") if isinstance(held, dict) else None
    tables = isinstance(noises, list) and isinstance(kept, list)
    if (
        tables
        and all(isinstance(t, dict) for t in noises + kept)
        and all(t in noises for t in kept)
    ):
        out["sampling_config"] = {**config, "noises": [t for t in noises if t in kept]}
        added["noises"] = [t for t in noises if t not in kept]
        families = {t.get("family") for t in kept}
        for key in _ABSENT_WHILE_EMPTY:
            if key in ident:
                value = {f: v for f, v in (ident[key] or {}).items() if f in families}
                out.pop(key)
                if value:
                    out[key] = value
    return out, added


def describe_added(added: dict[str, list]) -> str:
    """``model b, noise laplace(scale=0.5)``: the models and noise tables of
    ``added_to_stored``'s second value."""
    parts = [f"model {name}" for name in added["models"]]
    for table in added["noises"]:
        params = ", ".join(f"{k}={v}" for k, v in sorted((table.get("params") or {}).items()))
        parts.append(f"noise {table.get('family')}" + (f"({params})" if params else ""))
    return ", ".join(parts)


def _differs(stored: dict[str, Any], now: dict[str, Any], key: str) -> str | None:
    """Where the stored value of ``key`` and ``now``'s differ (``difference``): models by
    their files and settings (how they are read is ``read_differently``'s)."""
    if key == "models":
        return difference(
            _without_fingerprints(stored.get(key)), _without_fingerprints(now.get(key)), key
        )
    return difference(_canonical(key, stored.get(key)), _canonical(key, now.get(key)), key)


def _held_beyond(stored: dict[str, Any], requested: dict[str, Any]) -> dict[str, list] | None:
    """What the stored run holds beyond ``requested`` (models, noise tables), where that
    is all that differs: a config of fewer models or noises than the store (the one it
    began with, before another session extended it); else None."""
    reduced, dropped = added_to_stored(requested, stored)
    if not dropped["models"] and not dropped["noises"]:
        return None
    keys = set(requested) | set(reduced)
    return None if any(_differs(reduced, requested, k) for k in keys) else dropped


def _unsampled_sources_as_now(store: Store, stored: Any, now: Any) -> Any:
    """The stored ``noise_sources`` with the entries of the families that have no counts
    in the store taken as ``now``'s: a plugin edited after a run that never sampled its
    family (an extension that failed on its first image) changed nothing stored, and
    refusing it would leave no config that resumes the store."""
    if not isinstance(stored, dict) or not isinstance(now, dict) or stored == now:
        return stored
    specs = store.noise_specs()
    sampled = {
        (specs.get(name) or {}).get("family")
        for (name,) in store.query("SELECT DISTINCT noise FROM counts")
    }
    return {
        family: now[family] if family in now and family not in sampled else source
        for family, source in stored.items()
    }


def _leaves_out(stored: dict[str, Any], requested: dict[str, Any]) -> bool:
    """Whether ``requested`` lacks a stored model (by name) or a stored noise table."""
    models, before = requested.get("models"), stored.get("models")
    if isinstance(models, dict) and isinstance(before, dict) and set(before) - set(models):
        return True
    config = _canonical("sampling_config", requested.get("sampling_config"))
    held = _canonical("sampling_config", stored.get("sampling_config"))
    noises = config.get("noises") if isinstance(config, dict) else None
    kept = held.get("noises") if isinstance(held, dict) else None
    return (
        isinstance(noises, list) and isinstance(kept, list) and any(t not in noises for t in kept)
    )


def _holds_more(path: object, beyond: dict[str, list], later: str = "") -> ValueError:
    """The refusal of a config that names less than the store holds (``beyond``): the
    config a store began with, after another session extended it."""
    return ValueError(
        f"{path} holds more than this config asks for: {describe_added(beyond)} as well (a "
        "store keeps every model and noise a run gave it, those of a session that extended "
        "it too); run it with a config that names them all (the one that added them resumes "
        f"it), or use a new --store path for this config alone{later}"
    )


def check_resume(
    store: Store, ident: dict[str, Any], model_names: Collection[str] | None = None
) -> dict[str, list]:
    """Refuse to continue a stored run whose identity differs, naming the key and showing
    both values where they differ; and a run on a dataset other than that of the
    certificates imported into the store (a leaderboard holds one dataset). A config
    that adds models or noises to the stored ones, all else equal, extends the stored run
    (``added_to_stored``); returns what it adds (``models``: names, ``noises``: tables;
    empty for a new store or a plain resumption). ``model_names``: the config's models,
    where ``ident`` leaves them out (a check before they are built), so that a refusal
    names the stored ones it lacks."""
    imported = (
        {d for (d,) in store.query("SELECT DISTINCT dataset FROM imported")}
        if store.has_table("imported")  # a schema-1 store read before its migration
        else set()
    )
    if imported - {ident.get("dataset")}:
        raise ValueError(
            f"{store.path} holds certificates imported for {', '.join(sorted(imported))}, "
            f"but this run samples {ident.get('dataset')}; use a new --store path"
        )
    stored = {k: store.get_manifest(k) for k in ident}
    nothing = {"models": [], "noises": []}
    if all(v is None for v in stored.values()):
        return nothing
    for key in _ABSENT_WHILE_EMPTY:
        stored[key] = store.get_manifest(key)
    requested = dict(ident)
    ident, added = added_to_stored(stored, ident)
    stored["noise_sources"] = _unsampled_sources_as_now(
        store, stored.get("noise_sources"), ident.get("noise_sources")
    )
    for key in _ABSENT_WHILE_EMPTY:  # a stored family's record gone is a difference too
        ident.setdefault(key, None)
    kept, now = stored.get("noise_sources"), ident.get("noise_sources")
    if isinstance(kept, dict) and isinstance(now, dict):
        for family in sorted(set(kept) & set(now)):
            if (reason := source_change(family, kept)) is not None:
                raise ValueError(
                    f"{store.path} holds a run whose noise plugins' source differs: {reason}"
                    " (or use a new --store path)"
                )
        # a record of the class's own file alone, as stores kept it, matched: keep it
        ident["noise_sources"] = {**now, **{f: kept[f] for f in set(kept) & set(now)}}
    if stored.get("draw_method") is None and "draw_method" in ident:
        raise ValueError(
            f"{store.path} holds counts sampled with the earlier base draws (float32 "
            "torch.randn, Box-Muller on 24-bit uniforms, which never reach |G| > 5.77); "
            f"this version draws {ident['draw_method']}, so those counts cannot be "
            "continued: use a new --store path, or delete the old store"
        )
    for key, value in ident.items():
        # models by their files first: a replaced checkpoint is named by its sha256, not
        # as a reading
        found = _differs(stored, ident, key)
        if key == "models":
            if found is None and (names := read_differently(stored[key], value)):
                raise ValueError(
                    f"{store.path} holds counts of model {names[0]!r} as it was read then, "
                    "and the same file is read differently now: its modules, parameters or "
                    "buffers differ (another arch, format or known checkpoint, or another "
                    "version of its class), so its counts would mix two classifiers; use a "
                    "new --store path, or read the model as the run began"
                )
        if found is not None and key == "noise_sources":
            raise ValueError(
                f"{store.path} holds a run whose noise plugins' source differs ({found}): "
                "a plugin edited since the run began may map the same draws to other "
                "samples, which would be counted under the same noise name; use a new "
                "--store path, or restore the plugin as it was"
            )
        if found is not None and (beyond := _held_beyond(stored, requested)) is not None:
            later = ""
            if "models" not in requested:  # the check before the models are built
                later = " (the models' files and settings are compared once they are built)"
                if model_names is not None:
                    held = store.get_manifest("models") or {}
                    beyond = {**beyond, "models": sorted(set(held) - set(model_names))}
            raise _holds_more(store.path, beyond, later)
        if found is not None:
            extends = (
                " (a config extends a store only by adding models and noises: every "
                "stored one stays)"
                if _leaves_out(stored, requested)
                else ""
            )
            raise ValueError(
                f"{store.path} holds a run whose manifest differs in '{key}' ({found})"
                f"{extends}; use a new --store path, or delete the old store"
            )
    if "models" not in requested and model_names is not None:  # before they are built
        held = store.get_manifest("models")
        if isinstance(held, dict) and (absent := sorted(set(held) - set(model_names))):
            if set(model_names) <= set(held) and not added["noises"]:  # fewer, nothing new
                raise _holds_more(store.path, {"models": absent, "noises": []})
            kept = {name: v for name, v in held.items() if name in model_names}
            found = _differs({"models": held}, {"models": kept}, "models")
            raise ValueError(
                f"{store.path} holds a run whose manifest differs in 'models' ({found}) (a "
                "config extends a store only by adding models and noises: every stored one "
                "stays); use a new --store path, or delete the old store"
            )
    return added
