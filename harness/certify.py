"""Certification of a store: stored counts x certifiers x norms x alphas -> certificates.

No model is needed: counts are the sufficient statistic. The CERTIFY rule (top class from
the selection counts, Clopper-Pearson bound from the estimation counts) is
``certifiers.bounds.certify_top_class``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from tqdm import tqdm

import certifiers
from certifiers.base import Certifier, check_norm, checked_confidence_spent, checked_radii
from certifiers.bounds import (
    DEFAULT_ALPHA,
    alpha_printed_alike,
    certify_top_class,
    check_alpha,
)
from harness.certificate_groups import failure_entries, recorded_failures
from harness.noise import Noise, from_spec
from harness.noise.registry import source_change
from harness.store import CertificateRow, CountRow, Store
from smoothbench import plugins
from smoothbench.names import first_few


def resolve_certifiers(
    names: Iterable[str], options: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Certifier]:
    """Certifier instances by name (``"all"``: every registered one), each built with its
    ``options``; unknown names and options are clear errors."""
    names = list(names)
    if "all" in names:
        names = certifiers.available()
    options = options or {}
    return {name: certifiers.get(name, **dict(options.get(name, {}))) for name in names}


def certify_store(
    store: Store,
    certifier_names: Iterable[str] = ("all",),
    norms: Iterable[str] = certifiers.NORMS,
    alphas: Iterable[float] = (DEFAULT_ALPHA,),
    progress: bool = True,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> int:
    """(Re)compute certificates from the stored counts; returns the rows written. The
    options of each certifier are recorded in the manifest (``certifier_options``); the
    stored certificates of a certifier whose recorded options differ are dropped first, at
    every alpha (they were made otherwise), as are those of a noise whose recorded law
    distance differs, none recorded standing for 0 (``Store.record_certifier_options``,
    ``record_law_distance``). An unknown certifier or norm, or an alpha outside (0, 1), is
    refused before anything is written. ``p_lower`` is the Clopper-Pearson bound less the
    noise's law distance (the total variation its tabulated transform may add;
    ``Noise.sampled_law_distance``, the larger of the run's record and this code's), so a
    certificate holds for the stated law, not only for the one sampled; the manifest records
    it per noise (``law_distances``). A certifier that fails on a (model, noise) group (an
    invalid radius from a plugin, say), or a noise whose family is a plugin this process did
    not load, or a plugin family whose source differs from the one the run recorded when it
    sampled the counts (``noise_sources``: the same spec may be another law now; a run's
    store that records none for it, written before the record, is refused too), writes
    nothing there and the others go on (a certifier's own failure at a norm deletes what it
    stored there before against that norm, at every alpha: rows of code that now fails; its
    other norms are written);
    ``CertificationError`` lists the failures at the end, and the manifest keeps them
    (``certification_failures``, per model, noise, certifier and norm, until a later
    certify of that norm succeeds there) for the report to tell apart from groups never
    certified."""
    instances = resolve_certifiers(certifier_names, options)
    norms = list(dict.fromkeys(check_norm(norm) for norm in norms))  # each once
    if not norms:
        raise ValueError(f"at least one norm is needed (some of {list(certifiers.NORMS)})")
    alphas = list(dict.fromkeys(check_alpha(alpha) for alpha in alphas))
    if not alphas:
        raise ValueError("at least one alpha is needed")
    _refuse_alphas_printed_alike(store, alphas)
    store.record_certifier_options({name: c.options() for name, c in instances.items()})
    specs = store.noise_specs()
    sources = store.get_manifest("noise_sources")
    run_written = store.get_manifest("sampling_config") is not None  # a run recorded them
    # the files behind the rows, before them: a plugin of a noise family whose counts are
    # refused (another source) waits for a row of a certifier it registers (it would be
    # asked for beside the right one, and could not be loaded with it)
    made = {p: set(plugins.registrations(p)) for p in plugins.loaded()}
    refused = {
        entry
        for family in {str(spec.get("family")) for spec in specs.values()}
        if any((entry := f"noise family:{family}") in m for m in made.values())
        and _source_refused(family, sources, run_written)
    }
    waiting = [p for p, m in made.items() if m & refused]
    recorded = store.get_manifest("plugins") or []
    if (named := plugins.with_loaded(recorded, but=waiting)) != recorded:
        registered = plugins.with_registrations(store.get_manifest("plugin_registrations"))
        store.put_manifest({"plugins": named, "plugin_registrations": registered})
    distances = dict(store.get_manifest("law_distances") or {})
    groups: dict[tuple[str, str], list[CountRow]] = defaultdict(list)
    for row in store.count_rows():
        groups[(row.model, row.noise)].append(row)
    sampled = store.get_manifest("noise_approximations")
    written = 0
    failures: list[str] = []
    failed = recorded_failures(store.get_manifest("certification_failures"))  # as stored
    items = sorted(groups.items())
    bar = tqdm(items, desc="certify", unit="group", disable=not progress, mininterval=1.0)
    finished = 0
    try:
        for (model, noise_name), rows in bar:
            try:  # a plugin's family this process did not load: the other groups go on
                noise = from_spec(specs[noise_name])
            except Exception as err:  # an unknown family, or a plugin's that fails to build
                failures.append(f"noise {noise_name}, model {model}: {err}")
                continue
            try:
                changed = source_change(noise.family, sources, required=run_written)
                if changed is not None:  # its certificates would be of another law
                    raise ValueError(changed)
                distance = noise.sampled_law_distance(sampled)
            except Exception as err:  # or a plugin's approximation that states no bound
                failures.append(f"noise {noise_name}, model {model}: {type(err).__name__}: {err}")
                pending = dict(failed)
                for cname, c in instances.items():
                    for norm in norms:
                        if _may_certify(c, noise, norm):
                            key = (model, noise_name, cname, norm)
                            pending[key] = f"{type(err).__name__}: {err}"
                if pending != failed:  # at once: a stop after a later group's commit loses none
                    store.put_manifest({"certification_failures": failure_entries(pending)})
                    failed = pending
                continue
            if distances.get(noise_name) != distance:  # one transaction a change, not a group
                store.record_law_distance(noise_name, distance)
                distances[noise_name] = distance
            out, errors = _certify_group(
                model, noise_name, noise, rows, distance, instances, norms, alphas, bar
            )
            pending = dict(failed)
            for (cname, norm), (line, error) in errors.items():
                failures.append(line)
                pending[(model, noise_name, cname, norm)] = error
            for cname, norm in {(row.certifier, row.norm) for row in out}:
                pending.pop((model, noise_name, cname, norm), None)  # certified now
            for cname in {row.certifier for row in out} - {c for c, _ in errors}:
                pending.pop((model, noise_name, cname, ""), None)  # a record of every norm
            # the rows, the certificates of a certifier at a norm it fails on now (every
            # alpha), and the failures, together: an interruption leaves no record that
            # contradicts them
            dropped = [(model, noise_name, c, nm) for c, nm in errors]
            record = (
                {} if pending == failed else {"certification_failures": failure_entries(pending)}
            )
            behind = {f"certifier:{row.certifier}" for row in out}
            if late := [p for p in waiting if set(plugins.registrations(p)) & behind]:
                waiting = [p for p in waiting if p not in late]
                named = [*named, *late]
                record["plugins"] = named
                record["plugin_registrations"] = plugins.with_registrations(
                    store.get_manifest("plugin_registrations")
                )
            store.put_certificates(out, dropped, record or None)
            failed = pending
            written += len(out)
            finished += 1
    except KeyboardInterrupt:  # the store holds every group's record as it committed
        raise CertificationInterrupted(finished, len(items), written) from None
    if failures:
        raise CertificationError(failures, written)
    return written


def _refuse_alphas_printed_alike(store: Store, alphas: list[float]) -> None:
    """An alpha that differs from another given or stored but prints as it does (``{:g}``,
    as report titles and file names print it) is refused: the report would show two
    tables of one title and write their files over each other."""
    stored = store.certificate_alphas()
    for i, alpha in enumerate(alphas):
        alike = alpha_printed_alike(alpha, [*alphas[:i], *stored])
        if alike is not None:
            raise ValueError(
                f"alpha {alpha!r} prints as {alpha:g}, as {alike!r} does (given or in the "
                "store): the report could not tell their tables and files apart; give an "
                "alpha that differs in its first six digits"
            )


def _certify_group(
    model: str,
    noise_name: str,
    noise: Noise,
    rows: list[CountRow],
    distance: float,
    instances: Mapping[str, Certifier],
    norms: list[str],
    alphas: list[float],
    bar: Any,
) -> tuple[list[CertificateRow], dict[tuple[str, str], tuple[str, str]]]:
    """The certificates of one (model, noise) group at every alpha, and for each
    (certifier, norm) that failed there (none of whose rows are kept, at any alpha; its
    other norms' are) its error: the line for ``CertificationError`` and the shorter one
    the manifest keeps."""
    selection = np.stack([r.selection for r in rows])
    estimation = np.stack([r.estimation for r in rows])
    labels = np.array([r.label for r in rows])
    images = [r.image for r in rows]
    out: list[CertificateRow] = []
    errors: dict[tuple[str, str], tuple[str, str]] = {}
    for alpha in alphas:
        outcome = certify_top_class(selection, estimation, alpha, distance)
        p_lower, prediction = outcome.p_lower, outcome.prediction
        for cname, c in instances.items():
            for norm in norms:
                if (cname, norm) in errors:
                    continue
                try:
                    if not c.supports(noise, norm):
                        continue
                    # a certifier's first call on a noise may build its table: minutes
                    bar.set_postfix_str(f"{noise_name} {cname} {norm}")
                    # held to the rules whether or not it overrides ``radius``
                    radius = c.radius(noise, p_lower, norm)
                    if np.ndim(radius) == 0:  # a group of one: kept as returned otherwise
                        radius = np.atleast_1d(radius)
                    radius = checked_radii(c, noise, norm, p_lower, radius)
                    spent = checked_confidence_spent(
                        c, noise, norm, c.confidence_spent(noise, norm)
                    )
                except Exception as err:  # a plugin's bug, or a scale float64 cannot hold
                    errors[(cname, norm)] = (
                        f"certifier {cname!r} ({type(c).__module__}) on {noise_name} "
                        f"against {norm}, model {model}: {type(err).__name__}: {err}",
                        f"{type(err).__name__}: {err}",  # the record names the norm
                    )
                    continue
                out.extend(
                    CertificateRow(
                        model,
                        noise_name,
                        images[i],
                        cname,
                        norm,
                        alpha,
                        int(prediction[i]),
                        float(p_lower[i]),
                        float(radius[i]),
                        bool(prediction[i] == labels[i]),
                        spent,
                    )
                    for i in range(len(rows))
                )
    return [row for row in out if (row.certifier, row.norm) not in errors], errors


def _source_refused(family: str, sources: Any, required: bool) -> bool:
    """Whether the counts of ``family`` are refused for its code here (``source_change``);
    not for a family not registered here, which the group it is in reports."""
    try:
        return source_change(family, sources, required=required) is not None
    except ValueError:
        return False


def _may_certify(c: Certifier, noise: Noise, norm: str) -> bool:
    """Whether ``c`` certifies ``noise`` against ``norm``; True where it cannot say (a
    plugin's condition that fails): a group it may certify is one it failed on."""
    try:
        return c.supports(noise, norm)
    except Exception:
        return True


class CertificationInterrupted(KeyboardInterrupt):
    """Certification stopped (Ctrl-C, SIGTERM) after ``finished`` of ``total`` (model,
    noise) groups: theirs are written (``written`` rows, at every alpha asked); the other
    groups hold what they held before."""

    def __init__(self, finished: int, total: int, written: int) -> None:
        self.finished, self.total, self.written = finished, total, written
        super().__init__(f"certification stopped after {finished} of {total} (model, noise) groups")


class CertificationError(ValueError):
    """Certifiers that failed on some (model, noise) groups: their certificates there are
    not written; every other certifier's are (``written`` rows). One line per failure."""

    def __init__(self, failures: list[str], written: int) -> None:
        self.failures, self.written = failures, written
        super().__init__(
            f"{len(failures)} certification(s) failed and were not written "
            f"({first_few(failures, separator='; ')}); the "
            f"other certifiers' {written} certificates were written"
        )
