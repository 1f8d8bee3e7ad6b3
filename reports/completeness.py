"""Honest n: whether the store holds every image the run set out to sample and certify,
and whether the alphas reported are the config's. The report states any gap at the top
of every output, and ``no_certificates_advice`` tells what to run when there is nothing
to report yet."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from harness.certificate_groups import recorded_failures
from harness.sampling_progress import SamplingProgress
from smoothbench.names import first_few


def no_certificates_advice(
    store_path: str | Path, progress: SamplingProgress, counts: pd.DataFrame
) -> str:
    """The error of a store with nothing to report, with the step that fixes it: run
    (no counts), resume the run (sampling incomplete) or certify (counts complete)."""
    run = f"smoothbench run CONFIG --store {store_path}"
    if counts.empty:
        return (
            f"{store_path} holds no counts and no certificates: run the benchmark first (`{run}`)"
        )
    gap = progress.gap()
    if gap is not None:
        return (
            f"{store_path} holds no certificates, and sampling is incomplete: {gap}; "
            f"resume the run with `{run}` (the run's config; it samples the rest, then "
            f"certifies), or certify the images sampled so far with `smoothbench certify "
            f"{store_path}` for a partial report"
        )
    return (
        f"{store_path} holds counts but no certificates; run "
        f"`smoothbench certify {store_path}` first"
    )


def missing_group_warnings(
    missing: Iterable[tuple[str, str, str, str, float]],
    store_path: str | Path,
    failures: Iterable[Mapping[str, str]] = (),
    stored: Collection[tuple[str, str, str, str]] | None = None,
) -> list[str]:
    """One line per alpha for the certificate groups ``(model, noise, certifier, norm,
    alpha)`` a complete store would hold and this one lacks (``harness.certificate_groups.
    expected_groups``: e.g. a ``smoothbench certify --alpha 0.01`` that was stopped), with
    the command that certifies them; and one line per (model, noise, certifier, norm)
    whose certification failed (the manifest's ``certification_failures``), with its
    error, instead, since the same command would fail again there. Each says whether
    certificates of it lack there, or those stored there predate the failure (a noise
    plugin changed since the sampling, whose earlier certificates hold for the law
    sampled): ``stored``, the (model, noise, certifier, norm) the store holds rows of,
    tells (where not given, the groups ``missing`` do)."""
    failed = recorded_failures(failures)
    missing = list(missing)
    if stored is not None:
        held = set(stored)
    else:  # a failed norm holds rows unless one of its groups is missing
        lacking = {g[:4] for g in missing}
        held = {k for k in failed if k[3] and k not in lacking}
        held |= {k for k in failed if not k[3] and not any(g[:3] == k[:3] for g in missing)}

    def _holds(key: tuple[str, str, str, str]) -> bool:
        if key[3]:
            return key in held
        return any(h[:3] == key[:3] for h in held)  # a record of every norm

    def _failed(group: tuple[str, str, str, str, float]) -> bool:
        return group[:4] in failed or (*group[:3], "") in failed

    by_alpha: dict[float, list[tuple[str, str, str, str, float]]] = defaultdict(list)
    for group in missing:
        if not _failed(group):
            by_alpha[float(group[4])].append(group)
    out = [
        f"certification failed: {c} on {m} / {nz}{f' against {nm}' if nm else ''}: {error}; "
        + (
            "the certificates stored there were made before it failed"
            if _holds((m, nz, c, nm))
            else "its certificates there are missing"
        )
        + ", and `smoothbench certify` fails the same way until the certifier (or its "
        "plugin) is mended"
        for (m, nz, c, nm), error in sorted(failed.items())
    ]
    for alpha, groups in sorted(by_alpha.items()):
        names = sorted({f"{m} / {nz} / {c} / {nm}" for m, nz, c, nm, _ in groups})
        flags = [f"--alpha {alpha:g}"]
        flags += [f"--certifier {c}" for c in sorted({g[2] for g in groups})]
        flags += [f"--norm {n}" for n in sorted({g[3] for g in groups})]
        out.append(
            f"certification incomplete at alpha = {alpha:g}: {len(names)} (model, noise, "
            f"certifier, norm) group(s) have no certificates ({first_few(names)}); `smoothbench "
            f"certify {store_path} {' '.join(flags)}` completes them"
        )
    return out


def sampling_warnings(
    manifest: Mapping[str, Any],
    progress: SamplingProgress,
    counts: pd.DataFrame,
    outcomes: pd.DataFrame,
    missing_groups: Iterable[tuple[str, str, str, str, float]] = (),
    shown: pd.DataFrame | None = None,
    certifiable: set[tuple[str, str]] | None = None,
) -> list[str]:
    """One line per gap: images not sampled (per model: ``progress``, from
    ``harness.sampling_progress``), images sampled but not certified (of the (model,
    noise) pairs in ``certifiable`` where given: those a certifier of the store's
    certifies, ``harness.certificate_groups.expected_groups``; a noise none of them
    certifies is no gap ``smoothbench certify`` could close; and of every pair with a
    certificate, though its certifier be a plugin this report did not load), and alphas
    other than the config's among those the report shows (``shown``, the outcomes left by
    its filters; all of ``outcomes`` by default). Groups missing whole
    (``missing_groups``) have lines of their own (``missing_group_warnings``, with the
    command that certifies them), so the images of a (model, noise) pair with none of its
    certificates are not counted again here."""
    out: list[str] = []
    if (line := progress.warning()) is not None:
        out.append(line)
    if not counts.empty and not outcomes.empty:
        sampled = set(map(tuple, counts[["model", "noise", "image"]].to_numpy().tolist()))
        certified = set(map(tuple, outcomes[["model", "noise", "image"]].to_numpy().tolist()))
        pairs = {(m, nz) for m, nz, *_ in certified}
        whole = {(m, nz) for m, nz, *_ in missing_groups} - pairs
        missing = {
            t
            for t in sampled - certified
            if t[:2] not in whole
            and (certifiable is None or t[:2] in certifiable or t[:2] in pairs)
        }
        if missing:
            out.append(
                f"certification incomplete: {len(missing)} sampled (model, noise, image) "
                "triples have no certificate; `smoothbench certify STORE` completes them"
            )
        out += partial_group_warnings(outcomes)
    config_alphas = {
        float(a) for a in ((manifest.get("config") or {}).get("certify") or {}).get("alpha", [])
    }
    shown = outcomes if shown is None else shown
    if config_alphas and not shown.empty:
        stored = {float(a) for a in shown["alpha"].unique() if not math.isnan(float(a))}
        other = sorted(stored - config_alphas)  # NaN: no alpha (a deterministic row)
        if other:
            out.append(
                f"alpha = {', '.join(f'{a:g}' for a in other)} certified after the run (the "
                f"config asked for {', '.join(f'{a:g}' for a in sorted(config_alphas))}); "
                "each alpha has its own tables"
            )
    return out


def partial_group_warnings(outcomes: pd.DataFrame) -> list[str]:
    """A line for the certificate groups (model, noise, certifier, norm, alpha) of the
    Monte Carlo rows that hold fewer images than the (model, noise) pair has certified
    by another group: an alpha or certifier certified on a stopped run's images, the run
    then resumed (a resumed run certifies its config's groups only), so that its boards
    would compare rows on part of the images without a word."""
    keys = ["model", "noise", "certifier", "norm", "alpha"]
    rows = outcomes[outcomes["kind"] == "smoothing"] if "kind" in outcomes else outcomes
    if rows.empty or not set(keys) <= set(rows.columns):  # a table of triples only
        return []
    held = rows.groupby(keys, sort=True)["image"].nunique()
    pair = rows.groupby(["model", "noise"])["image"].nunique()
    short = [(key, int(n), int(pair[key[:2]])) for key, n in held.items() if n < pair[key[:2]]]
    if not short:
        return []
    named = [f"{m} / {nz} / {c} / {nm} / alpha {a:g}: {n} of {of}" for (m, nz, c, nm, a), n, of
             in short]  # fmt: skip
    options = sorted(
        {f"--certifier {c} --norm {nm} --alpha {a:g}" for (_, _, c, nm, a), _, _ in short}
    )
    return [
        f"certification incomplete: {len(short)} certificate groups hold fewer images than "
        f"their (model, noise) pair has certified ({first_few(named, 2, '; ')}); "
        f"`smoothbench certify STORE {options[0]}`"
        + (f" (and {len(options) - 1} more such)" if len(options) > 1 else "")
        + " completes them"
    ]


def imported_incomplete_warnings(manifest: Mapping[str, Any]) -> list[str]:
    """One line naming the imported files their export listed as incomplete (the
    manifest's ``imported_incomplete``: the run that wrote them had not sampled or
    certified all of its images), whose rows rest on the images they hold."""
    sources = manifest.get("imported_incomplete") or []
    if not sources:
        return []
    return [
        f"imported from {len(sources)} file(s) their export listed as incomplete (the run "
        f"that wrote them had not sampled or certified all of its images): "
        f"{first_few(sources)}; their rows hold only the images they have"
    ]
