"""Both audits on one store: the statistical audit of every smoothing certifier, and the
attack audit of the store's certified images on its own models (rebuilt from the
stored config and checked against the stored sha256). Returns the summary rows that
``smoothbench audit`` prints and stores (``harness.store.AuditRow``)."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

import certifiers
from baselines.datasets import Dataset, load_dataset
from baselines.models import ModelEntry, build_models
from harness.audit import attack, statistical
from harness.audit.attack import AttackSettings, SmoothedTarget
from harness.audit.statistical import REJECT, STORE_DIM_CAP, StatisticalSettings
from harness.certificate_groups import configured_certification
from harness.config import parse
from harness.deterministic import training_bounds
from harness.identity import module_fingerprint
from harness.noise import Noise, from_spec, rebuild_noise
from harness.noise.registry import source_change
from harness.sampler import SamplerOptions
from harness.store import AuditRow, Store
from smoothbench import plugins


@dataclass(frozen=True)
class AuditSettings:
    statistical: StatisticalSettings
    attack: AttackSettings
    quick: bool = False

    @classmethod
    def make(cls, quick: bool) -> AuditSettings:
        if quick:
            return cls(StatisticalSettings.quick(), AttackSettings.quick(), True)
        return cls(StatisticalSettings(), AttackSettings(), False)


def statistical_rows(
    settings: StatisticalSettings,
    certifier_names: Iterable[str] | None = None,
    progress: bool = True,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    noises: Sequence[Noise] = (),
) -> list[AuditRow]:
    """The statistical audit, one row per (certifier, noise, norm), of the certifiers
    built with ``options`` (the store's ``certifier_options``), on the audit noises
    (``statistical.audit_noises``) and ``noises`` (a store's own)."""
    record = {**statistical.settings_record(settings), "reject": REJECT}
    rows = []
    audited = [*statistical.audit_noises(settings.dims, settings.all_examples), *noises]
    for r in statistical.run_statistical_audit(
        settings, certifier_names, audited, progress=progress, options=options
    ):
        rows.append(
            AuditRow("statistical", r.certifier, r.noise, r.norm, "linear", r.trials, r.false,
                     r.alpha, r.spent, r.p_value, r.mean_certified, r.mean_exact, r.passed,
                     {**record, "certified": r.certified, "tightness": r.tightness})
        )  # fmt: skip
    return rows


def store_noises(store: Store) -> list[Noise]:
    """The store's noises of dim at most ``STORE_DIM_CAP``: the certificates the store
    holds, at their dim and shape parameters, which the audit noises do not reach (a
    family whose plugin is not loaded here is left out)."""
    noises = [rebuild_noise(spec) for _, spec in sorted(store.noise_specs().items())]
    sources = store.get_manifest("noise_sources")
    required = store.get_manifest("sampling_config") is not None  # a run recorded them
    for family in sorted({nz.family for nz in noises if nz is not None}):
        if (reason := source_change(family, sources, required)) is not None:  # another law
            raise ValueError(f"cannot audit {store.path}: {reason}")
    return [nz for nz in noises if nz is not None and nz.dim <= STORE_DIM_CAP]


def store_certifiers(store: Store) -> list[str]:
    """The registered certifiers of the store's certificates; for a store that holds none
    yet, those of its run config's ``[certify]`` table (``all``: every registered one). A
    stored certifier whose plugin is not loaded is left out (the report's ``audit`` check
    lists it as not audited)."""
    stored = sorted(c for (c,) in store.query("SELECT DISTINCT certifier FROM certificates"))
    if not stored:
        names, _, _, _ = configured_certification(store)
        stored = certifiers.available() if "all" in names else names
    known = set(certifiers.available())
    return [name for name in stored if name in known]


def load_models(store: Store) -> tuple[list[ModelEntry], Dataset]:
    """The store's models, rebuilt from its config (cached training), and its dataset;
    a model whose weights differ from the stored sha256, or that is read otherwise than
    the run read it (``harness.identity.module_fingerprint``, where recorded), is
    refused."""
    raw = store.get_manifest("config")
    if raw is None:
        raise ValueError(f"{store.path} has no config in its manifest: it cannot be audited")
    cfg = parse(_with_recorded_plugins(raw, store), source=f"{store.path} (stored config)")
    data = load_dataset(cfg.dataset, cfg.data_root, download=False)
    models = build_models(cfg.models, data, verified_bounds=training_bounds())
    recorded = store.get_manifest("models") or {}
    for m in models:
        entry = recorded.get(m.name) or {}
        want = entry.get("sha256")
        if want is not None and want != m.sha256:
            raise ValueError(
                f"model {m.name} rebuilt here has sha256 {m.sha256[:12]}..., the store's was "
                f"{want[:12]}...: its certificates are not about this model"
            )
        read = entry.get("module")
        if read is not None and read != module_fingerprint(m.model):
            raise ValueError(
                f"model {m.name} rebuilt here is read otherwise than the run read it (its "
                "modules, parameters or buffers differ: another arch, format or version of "
                "its class): its certificates are not about this model"
            )
    return models, data


def _with_recorded_plugins(raw: dict[str, Any], store: Store) -> dict[str, Any]:
    """The stored config with its ``run.plugins`` replaced by the plugins the store's runs
    recorded as loaded (``smoothbench.plugins.with_loaded``: absolute paths, module names;
    the config's own list, a ``run --plugin`` and a later ``certify --plugin``) that this
    process has not loaded and whose registrations are not made here otherwise
    (``smoothbench.plugins.not_loaded``): a relative plugin file of the config named its
    folder, which a stored config no longer knows, and a plugin given with ``--plugin``
    (moved or not) is not loaded a second time. Those still where they were are loaded
    first (a file recorded at its old and its new path is found at the new); a recorded
    file gone is an error naming it where what it registered is not all registered here,
    or where the store recorded nothing of it and no ``--plugin`` was given (which may
    stand for it: the config's parse then names a noise or certifier still missing).
    A store without that record keeps its config's list."""
    recorded = store.get_manifest("plugins")
    run = raw.get("run")
    if not isinstance(recorded, list) or not isinstance(run, dict):
        return raw
    registered = store.get_manifest("plugin_registrations")
    given = bool(plugins.loaded())
    present = [p for p in plugins.not_loaded(recorded, registered) if not _gone(p)]
    plugins.load_plugins(present)
    made = registered if isinstance(registered, dict) else {}
    # a gone file whose recorded registrations are not all made here is missing, whatever
    # was given; one that recorded none may be what a --plugin stands for
    gone = [
        p
        for p in plugins.not_loaded(recorded, registered)
        if _gone(p) and (not given or made.get(p))
    ]
    if gone:
        raise ValueError(
            f"the run of {store.path} loaded the plugin file {gone[0]}, not found now: "
            "give it with --plugin FILE"
        )
    return {**raw, "run": {**run, "plugins": present}}


def _gone(plugin: str) -> bool:
    """Whether ``plugin`` is a file (recorded by its absolute path) no longer there."""
    return Path(plugin).is_absolute() and not Path(plugin).is_file()


def smoothed_targets(
    store: Store, models: list[ModelEntry], data: Dataset, settings: AttackSettings
) -> list[SmoothedTarget]:
    """Per (model, noise, norm) the first ``settings.images`` images with a certificate
    (radius > 0) at the store's smallest alpha, with each certifier's radius."""
    rows = store.query(
        "SELECT model, noise, norm, image, certifier, alpha, prediction, radius,"
        " confidence_spent FROM certificates WHERE radius > 0 AND prediction >= 0"
        " AND alpha = (SELECT MIN(alpha) FROM certificates) ORDER BY 1, 2, 3, 4, 5"
    )
    by_name = {m.name: m for m in models}
    smoothed = [m.name for m in models if m.spec is None or m.spec.smoothing]
    if settings.models is not None:
        smoothed = smoothed[: settings.models]
    specs = store.noise_specs()
    options = SamplerOptions.from_manifest(store.get_manifest("sampler"))
    groups: dict[tuple[str, str, str], dict[int, dict[str, float]]] = defaultdict(dict)
    alpha_of: dict[tuple[str, str, str], float] = {}
    spent: dict[tuple[str, str, str], dict[str, float]] = defaultdict(dict)
    classes: dict[tuple[str, str, int], int] = {}
    for model, noise, norm, image, cert, alpha, pred, radius, sp in rows:
        if model not in smoothed:
            continue
        key = (model, noise, norm)
        images = groups[key]
        if image not in images and len(images) >= settings.images:
            continue
        images.setdefault(int(image), {})[cert] = float(radius)
        classes[(model, noise, int(image))] = int(pred)
        alpha_of[key] = float(alpha)
        spent[key][cert] = float(sp)
    out = []
    for (model, noise, norm), images in sorted(groups.items()):
        out.append(
            SmoothedTarget(
                model, by_name[model].model, noise, from_spec(specs[noise]), norm,
                {i: (data[i][0], classes[(model, noise, i)], c) for i, c in images.items()},
                alpha_of[(model, noise, norm)], spent[(model, noise, norm)], options,
            )
        )  # fmt: skip
    return out


def attack_rows(
    store: Store,
    models: list[ModelEntry],
    data: Dataset,
    settings: AttackSettings,
    progress: bool = True,
) -> list[AuditRow]:
    """The attack audit of the store's smoothing certificates, one row per (certifier,
    noise, norm, model)."""
    targets = smoothed_targets(store, models, data, settings)
    results = attack.attack_targets(targets, settings, progress=progress)
    record = attack.settings_record(settings)
    rows = []
    for t in targets:
        attacks = results[(t.model_name, t.noise_name, t.norm)]
        for cert in sorted(t.spent):
            n, broken, cert_r, emp_r = attack.summarize_certifier(attacks, cert)
            # a false break, like a false certificate, comes from the image's own draws:
            # per image alpha + break_alpha, and the certifier's spent confidence
            per_image = t.alpha + settings.break_alpha
            p = statistical.p_value(broken, n, per_image, t.spent[cert])
            # with few images even all of them broken cannot reach REJECT: a break found
            # there fails the cell rather than pass a test that could not fail
            floor = statistical.p_value(n, n, per_image, t.spent[cert])
            passed = p >= REJECT and not (broken and floor >= REJECT)
            rows.append(
                AuditRow("attack", cert, t.noise_name, t.norm, t.model_name, n, broken, t.alpha,
                         t.spent[cert], p, attack.mean(cert_r), attack.mean(emp_r), passed,
                         {**record, "found": len(emp_r), "smallest_p": floor})
            )  # fmt: skip
    return rows


def deterministic_rows(
    store: Store,
    models: list[ModelEntry],
    data: Dataset,
    settings: AttackSettings,
    progress: bool = True,
) -> list[AuditRow]:
    """PGD on the base network inside every certified l-inf box of ``ibp``/``crown``
    (at most ``settings.images`` images per model and certifier): any success fails."""
    if not store.has_table("deterministic_radii"):
        return []
    rows = store.query(
        "SELECT model, certifier, norm, image, label, radius FROM deterministic_radii"
        " WHERE radius > 0 AND prediction = label ORDER BY 1, 2, 3, 4"
    )
    by_name = {m.name: m for m in models}
    groups: dict[tuple[str, str, str], list[tuple[int, int, float]]] = defaultdict(list)
    for model, cert, norm, image, label, radius in rows:
        if model in by_name and len(groups[(model, cert, norm)]) < settings.images:
            groups[(model, cert, norm)].append((int(image), int(label), float(radius)))
    out = []
    total = sum(len(v) for v in groups.values())
    bar = tqdm(total=total, desc="box attack", unit="img", disable=not progress)
    for (model_name, cert, norm), items in sorted(groups.items()):
        model = by_name[model_name].model
        net = _float64_copy(model)
        broken, cert_r, emp_r = 0, [], []
        for image, label, radius in items:
            x = data[image][0]
            gen = torch.Generator().manual_seed(settings.seed + image)
            broken += attack.attack_base(net, x, label, radius, settings, gen)
            emp = attack.base_empirical_radius(net, x, label, radius, settings)
            if emp is not None:
                cert_r.append(radius)
                emp_r.append(emp)
            bar.update(1)
        out.append(
            AuditRow("deterministic-attack", cert, "none", norm, model_name, len(items), broken,
                     0.0, 0.0, 1.0 if broken == 0 else 0.0, attack.mean(cert_r),
                     attack.mean(emp_r), broken == 0,
                     {**attack.settings_record(settings), "found": len(emp_r)})
        )  # fmt: skip
    bar.close()
    return out


def _float64_copy(model: torch.nn.Module) -> torch.nn.Module:
    net = copy.deepcopy(model).to(torch.float64).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def audit_store(
    store: Store,
    settings: AuditSettings,
    certifier_names: Iterable[str] | None = None,
    progress: bool = True,
) -> list[AuditRow]:
    """Both audits; the rows are written to the store's ``audit`` table and returned.
    The statistical audit takes ``certifier_names``, by default the store's own
    certifiers (``store_certifiers``): a plugin loaded beside them is not audited into a
    store that holds none of its certificates; its noises are the audit noises and the
    store's own (``store_noises``)."""
    options = store.get_manifest("certifier_options") or {}
    if certifier_names is None:
        certifier_names = store_certifiers(store)
    rows = statistical_rows(
        settings.statistical, certifier_names, progress, options, store_noises(store)
    )
    models, data = load_models(store)
    rows += attack_rows(store, models, data, settings.attack, progress)
    rows += deterministic_rows(store, models, data, settings.attack, progress)
    rows = [replace(r, settings={**r.settings, "quick": settings.quick}) for r in rows]
    store.put_audit(rows)
    return rows
