"""Which certificate groups a store should hold: ``(model, noise, certifier, norm,
alpha)`` for the stored counts, the run config's ``[certify]`` table and what was
certified since. ``smoothbench certify`` plans with it, ``export`` and the report say
what is missing by it; it reads the store and the registries, and writes nothing. The
manifest's record of failed certifications is read and written through the pair
``recorded_failures`` / ``failure_entries``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import certifiers
from certifiers.base import Certifier
from certifiers.bounds import DEFAULT_ALPHA
from harness.noise import rebuild_noise
from harness.store import Store
from smoothbench.names import first_few


def certifiable_groups(
    store: Store,
    instances: Mapping[str, Certifier],
    norms: Iterable[str],
    alphas: Iterable[float],
) -> set[tuple[str, str, str, str, float]]:
    """The ``(model, noise, certifier, norm, alpha)`` groups that certifying the stored
    counts with ``instances`` x ``norms`` x ``alphas`` writes (``certify_store`` skips the
    pairs a certifier does not support, and the deterministic certifiers). A noise this
    code cannot rebuild (its plugin not loaded) has no groups here."""
    specs = store.noise_specs()
    pairs = store.query("SELECT DISTINCT model, noise FROM counts")
    norms, alphas = list(norms), [float(a) for a in alphas]
    supported: dict[str, list[tuple[str, str]]] = {}
    out: set[tuple[str, str, str, str, float]] = set()
    for model, noise_name in pairs:
        if noise_name not in supported:
            noise = rebuild_noise(specs[noise_name])
            if noise is None:  # an unknown family: nothing to judge by
                supported[noise_name] = []
                continue
            supported[noise_name] = [
                (cname, norm)
                for cname, c in instances.items()
                for norm in norms
                if c.supports(noise, norm)
            ]
        out.update(
            (model, noise_name, cname, norm, alpha)
            for cname, norm in supported[noise_name]
            for alpha in alphas
        )
    return out


def configured_certification(
    store: Store,
) -> tuple[list[str], list[str], list[float], dict[str, Any]]:
    """The certifiers, norms, alphas and certifier options of the run config's
    ``[certify]`` table, with ``smoothbench certify``'s defaults where it names none
    (every certifier, every norm, ``DEFAULT_ALPHA``)."""
    stored = (store.get_manifest("config") or {}).get("certify") or {}
    return (
        list(stored.get("certifiers") or ["all"]),
        list(stored.get("norms") or certifiers.NORMS),
        [float(a) for a in stored.get("alpha") or [DEFAULT_ALPHA]],
        dict(stored.get("options") or {}),
    )


def expected_groups(store: Store) -> set[tuple[str, str, str, str, float]]:
    """The certificate groups a complete store holds: the run config's ``[certify]``
    certifiers, norms and alphas (as ``smoothbench certify`` defaults to them), and every
    (certifier, norm, alpha) certified since, on every stored (model, noise) pair a
    certifier supports. Certifiers this code does not know are left out."""
    names, norms, alphas, configured = configured_certification(store)
    combos: set[tuple[str, str, float]] = set()
    if store.get_manifest("config") is not None or not store.query(
        "SELECT 1 FROM certificates LIMIT 1"
    ):
        if "all" in names:
            names = certifiers.available()
        combos.update((name, norm, alpha) for name in names for norm in norms for alpha in alphas)
    combos.update(
        (c, n, float(a))
        for c, n, a in store.query("SELECT DISTINCT certifier, norm, alpha FROM certificates")
    )
    options = {**(store.get_manifest("certifier_options") or {}), **configured}
    out: set[tuple[str, str, str, str, float]] = set()
    for name in sorted({c for c, _, _ in combos}):
        try:
            instance = certifiers.get(name, **dict(options.get(name) or {}))
        except (KeyError, ValueError, TypeError):
            try:
                instance = certifiers.get(name)
            except (KeyError, ValueError, TypeError):
                continue  # a certifier this code does not know: nothing to judge by
        # one pass over the stored pairs per certifier, kept to its own (norm, alpha)
        wanted = {(n, a) for c, n, a in combos if c == name and n in certifiers.NORMS}
        found = certifiable_groups(
            store, {name: instance}, {n for n, _ in wanted}, {a for _, a in wanted}
        )
        out |= {g for g in found if (g[3], g[4]) in wanted}
    return out


def missing_deterministic(store: Store) -> dict[tuple[str, str, str], int]:
    """``(model, certifier, norm) -> images missing`` for the deterministic certifiers of
    the run config's ``[certify]`` table (``"all"``: every registered one) on every model
    of the run, against every norm of the config they certify, over the run's index set;
    a (model, certifier) the run recorded as skipped (``deterministic_skipped``) and a
    certifier this code does not know are left out. Empty without an index set. Only
    ``smoothbench run`` makes these certificates: ``certify`` cannot."""
    index_set = store.get_manifest("index_set")
    if index_set is None:
        return {}
    names, norms, _, _ = configured_certification(store)
    if "all" in names:
        names = certifiers.available()
    skipped = store.get_manifest("deterministic_skipped") or {}
    done: dict[tuple[str, str, str], int] = {}
    if store.has_table("deterministic_radii"):
        done = {
            (m, c, n): int(k)
            for m, c, n, k in store.query(
                "SELECT model, certifier, norm, COUNT(DISTINCT image) FROM deterministic_radii"
                " GROUP BY model, certifier, norm"
            )
        }
    planned = len(set(map(int, index_set)))
    out: dict[tuple[str, str, str], int] = {}
    for name in names:
        try:
            if not certifiers.is_deterministic(name):
                continue
            cls = certifiers.CERTIFIERS.get(name)
        except (KeyError, ValueError):
            continue
        for model in store.get_manifest("models") or {}:
            if name in (skipped.get(model) or {}):
                continue
            for norm in (n for n in cls.norms if n in norms):
                short = planned - done.get((model, name, norm), 0)
                if short > 0:
                    out[(model, name, norm)] = short
    return out


def deterministic_gap(missing: Mapping[tuple[str, str, str], int]) -> str | None:
    """``deterministic certification incomplete: ...`` with how to finish it, for the
    ``missing_deterministic`` of a store; None where nothing is missing."""
    if not missing:
        return None
    parts = [f"{c} on {m} ({n}): {k} image(s)" for (m, c, n), k in sorted(missing.items())]
    return (
        f"deterministic certification incomplete: {first_few(parts, separator='; ')} "
        "without certificates; "
        "`smoothbench run` with the same config and store resumes it (`smoothbench "
        "certify` cannot: these need the model)"
    )


def recorded_failures(
    entries: Iterable[Mapping[str, str]] | None,
) -> dict[tuple[str, str, str, str], str]:
    """The manifest's ``certification_failures`` as ``(model, noise, certifier, norm) ->
    error``; ``norm`` is ``""`` in an entry written before failures were kept per norm
    (it stands for every norm)."""
    return {
        (f["model"], f["noise"], f["certifier"], f.get("norm") or ""): f["error"]
        for f in entries or []
    }


def failure_entries(failed: Mapping[tuple[str, str, str, str], str]) -> list[dict[str, str]]:
    """``recorded_failures``'s inverse, sorted: the manifest's ``certification_failures``."""
    return [
        {"model": m, "noise": nz, "certifier": c, **({"norm": nm} if nm else {}), "error": e}
        for (m, nz, c, nm), e in sorted(failed.items())
    ]
