"""The store as tidy pandas tables: one row per certificate, with the run's context.

``load_outcomes(store)`` columns:
    dataset, model, noise, family, certifier, norm, alpha, image, label, prediction,
    p_lower, radius, correct (bool: not abstained and right), abstained (bool),
    confidence_spent, seconds (sampling seconds for this image and noise)

``load_imported_outcomes(store)`` columns (certificates made elsewhere, e.g. Cohen et al.'s
certify TSVs, imported with ``smoothbench import``; they have no counts and no p_lower):
    dataset, model, noise, certifier, norm, alpha, image, label, prediction (-1 abstain),
    radius, correct (bool), seconds, source (the file imported)
``load_deterministic_outcomes(store)`` columns (the deterministic certifiers, ``ibp`` and
``crown``: no noise, no alpha, no abstention):
    dataset, model, certifier, norm, image, label, prediction, radius (the largest
    certified eps), correct (bool: the prediction is the label), seconds (of the
    bisection, for this image)
``load_leaderboard_outcomes(store)``: the three in ``load_outcomes``' columns and a
``kind`` (``smoothing``, ``imported``, ``deterministic``), as the leaderboards and
``compare`` read them (the other two with no p_A; deterministic rows with noise ``none``,
once for each alpha of the others).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from certifiers.bounds import DEFAULT_ALPHA
from harness.store import Store, imported_spent

OUTCOME_COLUMNS = [
    "dataset", "model", "noise", "family", "certifier", "norm", "alpha", "image", "label",
    "prediction", "p_lower", "radius", "correct", "abstained", "confidence_spent", "seconds",
]  # fmt: skip


def _open(store: Store | str | Path) -> tuple[Store, bool]:
    if isinstance(store, Store):
        return store, False
    return Store.open_existing(store, readonly=True), True


def _where(prefix: str, models: Collection[str] | None, norm: str | None) -> tuple[str, list]:
    """A SQL ``WHERE`` clause (and its parameters) keeping the rows of ``models`` against
    ``norm`` (either None: all)."""
    terms, params = [], []
    if models is not None:
        terms.append(f"{prefix}model IN ({', '.join('?' * len(models))})")
        params += sorted(models)
    if norm is not None:
        terms.append(f"{prefix}norm = ?")
        params.append(norm)
    return (" WHERE " + " AND ".join(terms) if terms else ""), params


def load_outcomes(
    store: Store | str | Path,
    models: Collection[str] | None = None,
    norm: str | None = None,
    desc: str | None = None,
) -> pd.DataFrame:
    """Per-image certificates joined with labels and sampling times; those of ``models``
    against ``norm`` only, where given (read as such: a store of a million certificates
    need not be read whole for two rows). The rows are read in chunks, sorted by SQLite
    (by norm, model, noise, certifier, alpha, image: its byte order of UTF-8 is Python's
    order of strings), and each name (model, noise, certifier, norm) is one string object
    however many rows hold it, so that the table, not Python's tuples and strings, is what
    a large store costs (``benchmarks/bench_report.py``). With ``desc``, a progress bar of
    the certificates read is shown on a terminal (``tqdm``; nothing where stderr is not
    one): a store of ten thousand images takes seconds to read."""
    st, owned = _open(store)
    where, params = _where("c.", models, norm)
    cols = ["model", "noise", "certifier", "norm", "alpha", "image", "label", "prediction",
            "p_lower", "radius", "correct", "confidence_spent", "seconds"]  # fmt: skip
    frames = []
    names: dict[str, str] = {}
    try:
        total = (
            st.query("SELECT COUNT(*) FROM certificates c" + where, tuple(params))[0][0]
            if desc
            else None
        )
        chunks = st.query_chunks(
            "SELECT c.model, c.noise, c.certifier, c.norm, c.alpha, c.image, k.label,"
            " c.prediction, c.p_lower, c.radius, c.correct, c.confidence_spent, k.seconds"
            " FROM certificates c"
            " JOIN counts k ON k.model = c.model AND k.noise = c.noise AND k.image = c.image"
            " JOIN noises n ON n.noise = c.noise" + where + " ORDER BY c.norm, c.model,"
            " c.noise, c.certifier, c.alpha, c.image",
            tuple(params),
        )
        with tqdm(
            total=total, desc=desc, unit="certificate", unit_scale=True, leave=False,
            disable=None if desc else True,
        ) as bar:  # fmt: skip
            for chunk in chunks:
                data = dict(zip(cols, zip(*chunk, strict=True), strict=True))
                for name in _NAMES:
                    data[name] = list(map(names.setdefault, data[name], data[name]))
                frames.append(pd.DataFrame(data))
                bar.update(len(chunk))
        specs = st.noise_specs()
        dataset = st.get_manifest("dataset")
    finally:
        if owned:
            st.close()
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame([], columns=cols)
    del frames
    # the family of each certified noise (a spec of another, imported, may lack one)
    df["family"] = df["noise"].map({nz: specs[nz]["family"] for nz in df["noise"].unique()})
    df["dataset"] = dataset
    df["correct"] = df["correct"].astype(bool)
    df["abstained"] = df["prediction"] < 0
    return df[OUTCOME_COLUMNS]


#: The text columns of a certificate, each value one string object per table.
_NAMES = ("model", "noise", "certifier", "norm")


IMPORTED_COLUMNS = [
    "dataset", "model", "noise", "certifier", "norm", "alpha", "image", "label",
    "prediction", "radius", "correct", "seconds", "source",
]  # fmt: skip


def load_imported_outcomes(
    store: Store | str | Path, models: Collection[str] | None = None, norm: str | None = None
) -> pd.DataFrame:
    """The store's imported certificates, one row per image (empty if none); those of
    ``models`` against ``norm`` only, where given."""
    st, owned = _open(store)
    try:
        rows = st.imported_rows() if st.has_table("imported") else []
    finally:
        if owned:
            st.close()
    rows = [r for r in rows if (models is None or r.model in models) and norm in (None, r.norm)]
    df = pd.DataFrame(
        [[getattr(r, c) for c in IMPORTED_COLUMNS] for r in rows], columns=IMPORTED_COLUMNS
    )
    df["correct"] = df["correct"].astype(bool)
    return df.sort_values(
        ["dataset", "norm", "model", "noise", "certifier", "alpha", "image"]
    ).reset_index(drop=True)


DETERMINISTIC_COLUMNS = [
    "dataset", "model", "certifier", "norm", "image", "label", "prediction", "radius",
    "correct", "seconds",
]  # fmt: skip


def load_deterministic_outcomes(
    store: Store | str | Path, models: Collection[str] | None = None, norm: str | None = None
) -> pd.DataFrame:
    """Per-image largest certified eps of the deterministic certifiers. Certified
    accuracy at ``r`` counts an image when it is ``correct`` and ``radius >= r``, as for
    the smoothing rows, on the same test images (so paired tests apply). Those of
    ``models`` against ``norm`` only, where given."""
    st, owned = _open(store)
    where, params = _where("", models, norm)
    try:
        rows = (
            st.query(
                "SELECT model, certifier, norm, image, label, prediction, radius, seconds"
                " FROM deterministic_radii" + where,
                tuple(params),
            )
            if st.has_table("deterministic_radii")
            else []
        )
        dataset = st.get_manifest("dataset")
    finally:
        if owned:
            st.close()
    cols = ["model", "certifier", "norm", "image", "label", "prediction", "radius", "seconds"]
    df = pd.DataFrame(rows, columns=cols)
    df["dataset"] = dataset
    df["correct"] = (df["prediction"] == df["label"]).astype(bool)
    return (
        df[DETERMINISTIC_COLUMNS]
        .sort_values(["dataset", "norm", "model", "certifier", "image"])
        .reset_index(drop=True)
    )


def load_counts(store: Store | str | Path) -> pd.DataFrame:
    """Raw counts: model, noise, image, label, selection, estimation (lists), seconds."""
    st, owned = _open(store)
    try:
        rows = st.count_rows()
    finally:
        if owned:
            st.close()
    return pd.DataFrame(
        [(r.model, r.noise, r.image, r.label, r.selection, r.estimation, r.seconds) for r in rows],
        columns=["model", "noise", "image", "label", "selection", "estimation", "seconds"],
    )


def imported_as_outcomes(
    imported: pd.DataFrame, specs: dict, spent: list[list] | None = None
) -> pd.DataFrame:
    """Imported certificates in the outcome table's columns (no p_A: no counts);
    ``spent``: the manifest's ``imported_confidence_spent``, the confidence each imported
    group's certificates spend beyond alpha (0 for a group it does not name)."""
    if imported.empty:
        return imported
    out = imported.copy()
    out["family"] = [(specs.get(nz) or {}).get("family", "imported") for nz in out["noise"]]
    out["p_lower"] = np.nan
    out["abstained"] = out["prediction"] < 0
    table = imported_spent(spent)
    keys = zip(out["model"], out["noise"], out["certifier"], out["norm"],
               out["alpha"].astype(float), out["source"], strict=True)  # fmt: skip
    out["confidence_spent"] = [table.get(k, 0.0) for k in keys]
    out["kind"] = "imported"
    return out


def config_alphas(manifest: dict) -> list[float]:
    """The alphas the run's config asked for (``certify.alpha``; its default when the
    config names none)."""
    certify = (manifest.get("config") or {}).get("certify") or {}
    alphas = certify.get("alpha", [DEFAULT_ALPHA]) if isinstance(certify, dict) else []
    try:
        return sorted({float(a) for a in alphas}) or [DEFAULT_ALPHA]
    except (TypeError, ValueError):
        return [DEFAULT_ALPHA]


def deterministic_as_outcomes(det: pd.DataFrame, alphas: list[float]) -> pd.DataFrame:
    """Deterministic certificates (ibp, crown) in the outcome table's columns: no noise,
    no p_A, nothing abstained; repeated for each alpha (those of the Monte Carlo rows,
    else the config's) so they stand in every table of their norm. A deterministic
    certificate holds with certainty: the alpha only places it beside the other rows."""
    if det.empty:
        return det
    out = det.copy()
    out["noise"] = "none"
    out["family"] = "deterministic"
    out["p_lower"] = np.nan
    out["abstained"] = False
    out["confidence_spent"] = 0.0
    out["kind"] = "deterministic"
    frames = [out.assign(alpha=float(a)) for a in alphas or [DEFAULT_ALPHA]]
    return pd.concat(frames, ignore_index=True)


def deterministic_alphas(alphas: Sequence[float], manifest: dict) -> list[float]:
    """The alphas a deterministic row stands at: those of the Monte Carlo and imported
    rows, else the config's."""
    return list(alphas) or config_alphas(manifest)


def leaderboard_outcomes(
    sampled: pd.DataFrame,
    imported: pd.DataFrame,
    deterministic: pd.DataFrame,
    specs: dict,
    manifest: dict,
    alphas: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Every row a leaderboard shows, in one table with a ``kind`` column: the Monte Carlo
    certificates (``load_outcomes``, kind ``smoothing``), the imported ones
    (``imported``) and the deterministic ones (``deterministic``, noise ``none``, at
    ``alphas``: by default those of the others, else the config's)."""
    sampled = sampled.assign(kind="smoothing")
    imported = imported_as_outcomes(imported, specs, manifest.get("imported_confidence_spent"))
    if alphas is None:
        alphas = sorted(set(map(float, pd.concat([sampled["alpha"], imported.get("alpha", [])]))))
    det_rows = deterministic_as_outcomes(deterministic, deterministic_alphas(alphas, manifest))
    extra = [f for f in (imported, det_rows) if len(f)]
    outcomes = pd.concat([sampled, *extra], ignore_index=True) if extra else sampled
    outcomes["alpha"] = outcomes["alpha"].astype(float)  # not object, beside an empty table
    return outcomes


def load_leaderboard_outcomes(
    store: Store | str | Path, models: Collection[str] | None = None, norm: str | None = None
) -> pd.DataFrame:
    """``leaderboard_outcomes`` of a store, or its rows of ``models`` against ``norm``
    where given (the deterministic ones at the alphas of the whole store, as there)."""
    st, owned = _open(store)
    try:
        return leaderboard_outcomes(
            load_outcomes(st, models, norm),
            load_imported_outcomes(st, models, norm),
            load_deterministic_outcomes(st, models, norm),
            st.noise_specs(),
            st.manifest(),
            st.certificate_alphas(),
        )
    finally:
        if owned:
            st.close()


def leaderboard_keys(store: Store | str | Path) -> pd.DataFrame:
    """The ``(model, norm, alpha)`` of every row ``load_leaderboard_outcomes`` holds, read
    without the rows: what a command that reads a few rows checks its names against."""
    st, owned = _open(store)
    try:
        keys = st.query("SELECT DISTINCT model, norm, alpha FROM certificates")
        if st.has_table("imported"):
            keys += st.query("SELECT DISTINCT model, norm, alpha FROM imported")
        deterministic = (
            st.query("SELECT DISTINCT model, norm FROM deterministic_radii")
            if st.has_table("deterministic_radii")
            else []
        )
        alphas = deterministic_alphas(st.certificate_alphas(), st.manifest())
    finally:
        if owned:
            st.close()
    keys += [(m, nm, a) for m, nm in deterministic for a in alphas]
    frame = pd.DataFrame(keys, columns=["model", "norm", "alpha"]).drop_duplicates()
    frame["alpha"] = frame["alpha"].astype(float)
    return frame.reset_index(drop=True)
