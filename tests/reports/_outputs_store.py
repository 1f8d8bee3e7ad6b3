"""A small store whose names need escaping and whose board carries marks: two models
(one named with ``_`` and ``&``), each certified by Cohen and by a test-only certifier
(``scaled_x2``: twice Cohen's l2 radius) that is significantly above it at the larger
radii; the grid reaches past Cohen's reach, so some cells carry the reach mark."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd

from harness.certify import certify_store
from harness.noise import Gaussian
from reports.leaderboard import Report, build_report
from reports.settings import ReportSettings
from reports.tidy import load_outcomes
from tests.conftest import _Plugins
from tests.reports._report_synth import (
    ALPHA,
    DIM,
    N_CLASSES,
    ScaledCohen,
    add_counts,
    new_store,
)

MODELS = {"wrn_28&10": 0.25, "m|<low>": 0.5}
SCALED = "scaled_x2"
RADII = (0.0, 0.25, 0.5, 1.0)


class Scaled(ScaledCohen):
    """Twice Cohen's l2 radius on Gaussian noise."""

    name = SCALED
    factor = 2.0


def build(path, plugins, n_images: int = 80):
    plugins.certifier(SCALED, Scaled)
    config = {
        "report": {"reference": "cohen", "radii": {"l2": list(RADII)}},
        "certify": {"certifiers": ["cohen", SCALED], "norms": ["l2"], "alpha": [ALPHA]},
    }
    store = new_store(path, n_images, MODELS, config=config)
    labels = np.arange(n_images) % N_CLASSES
    rng = np.random.default_rng(3)
    for model, share, top in (("wrn_28&10", 0.85, 990), ("m|<low>", 0.6, 850)):
        right = rng.random(n_images) < share
        tops = np.clip(top + rng.integers(-40, 10, n_images), 0, 1000)
        predicted = np.where(right, labels, (labels + 1) % N_CLASSES)
        add_counts(store, model, Gaussian(0.25, DIM), labels, predicted, tops)
    certify_store(store, ["cohen", SCALED], ["l2"], [ALPHA], progress=False)
    return store


def certified_table(path) -> pd.DataFrame:
    """Certified accuracy (fraction) per (model, noise, certifier) at each radius, and
    n, straight from the store's certificates table (not through the report code)."""
    import sqlite3

    with sqlite3.connect(path) as db:
        cert = pd.read_sql_query(
            "SELECT model, noise, certifier, image, prediction, radius, correct FROM certificates",
            db,
        )
    cert["ok"] = (cert["prediction"] >= 0) & cert["correct"].astype(bool)
    out = cert.groupby(["model", "noise", "certifier"]).agg(n=("image", "nunique"))
    for r in RADII:
        out[r] = (
            (cert["ok"] & (cert["radius"] >= r))
            .groupby([cert["model"], cert["noise"], cert["certifier"]])
            .mean()
        )
    out["acr"] = (
        cert["radius"]
        .where(cert["ok"], 0.0)
        .groupby([cert["model"], cert["noise"], cert["certifier"]])
        .mean()
    )
    return out.reset_index()


@contextmanager
def built_report(path, warnings: Sequence[str] = ()) -> Iterator[tuple[Report, pd.DataFrame]]:
    """The store ``build`` makes at ``path`` (then closed), its report, and its
    certificates table with ``ok`` (certified and correct); the test-only certifier stays
    registered inside the ``with``."""
    plugins = _Plugins()
    try:
        store = build(path, plugins)
        try:
            settings = ReportSettings.from_config(store.manifest()["config"])
            report = build_report(
                load_outcomes(store), manifest=store.manifest(), specs=store.noise_specs(),
                settings=settings, warnings=warnings,
            )  # fmt: skip
        finally:
            store.close()
        with sqlite3.connect(path) as db:
            certs = pd.read_sql_query("SELECT * FROM certificates", db)
        certs["ok"] = (certs["prediction"] >= 0) & certs["correct"].astype(bool)
        yield report, certs
    finally:
        plugins.remove_all()
