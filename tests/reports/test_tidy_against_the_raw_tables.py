"""``load_outcomes`` and ``load_deterministic_outcomes`` against the store's raw tables,
joined here with pandas: one tidy row per certificate, its label and sampling seconds
those of its own (model, noise, image), ``abstained`` where the prediction is -1 (class 0
is a class), ``correct`` as stored."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd

from harness.noise import Gaussian, Laplace
from harness.store import CertificateRow, DeterministicRadiusRow
from reports.tidy import load_deterministic_outcomes, load_outcomes
from tests.reports._report_synth import DIM, count_rows, new_store

N_IMAGES = 6
LABELS = [0, 1, 0, 2, 3, 0]


def _store(tmp_path):
    store = new_store(tmp_path / "s.sqlite", N_IMAGES, {"m1": 0.25, "m2": 0.5})
    noises = [Gaussian(0.25, DIM), Laplace(0.5, DIM)]
    store.put_noises({nz.name: nz.spec() for nz in noises})
    certs = []
    rng = np.random.default_rng(3)
    for mi, model in enumerate(("m1", "m2")):
        for ni, noise in enumerate(noises):
            # each (model, noise) its own predictions and seconds, so a join on the
            # wrong key shows
            pred = [
                (lab + (i + mi + ni) % 3) % 10 if (i + mi) % 2 else lab
                for i, lab in enumerate(LABELS)
            ]
            seconds = 0.1 * (1 + 2 * mi + ni)
            store.put_counts(
                count_rows(model, noise, LABELS, pred, [900] * N_IMAGES, seconds=seconds)
            )
            for i, lab in enumerate(LABELS):
                abstain = i == 4
                p = float(rng.uniform(0.6, 0.99))
                r = 0.0 if abstain else float(rng.uniform(0.01, 1.0))
                shown = -1 if abstain else pred[i]
                certs.append(
                    CertificateRow(
                        model, noise.name, i, "cohen", "l2", 0.001, shown, p, r, shown == lab, 0.0
                    )  # fmt: skip
                )
    store.put_certificates(certs)
    store.put_deterministic(
        [],
        [
            DeterministicRadiusRow(
                "m1", i, "ibp", "linf", lab, (lab + i % 2) % 10, 0.01 * i, 0.5 + i
            )
            for i, lab in enumerate(LABELS)
        ],
    )
    path = store.path
    store.close()
    return path


def _raw(path, sql):
    with sqlite3.connect(path) as db:
        return pd.read_sql_query(sql, db)


def test_outcomes_are_the_certificates_joined_with_their_own_counts(tmp_path):
    path = _store(tmp_path)
    certs = _raw(path, "SELECT * FROM certificates")
    counts = _raw(path, "SELECT model, noise, image, label, seconds FROM counts")
    noises = _raw(path, "SELECT noise, spec FROM noises")
    want = certs.merge(counts, on=["model", "noise", "image"], how="inner").merge(
        noises, on="noise"
    )
    assert len(want) == len(certs) == 2 * 2 * N_IMAGES
    got = load_outcomes(path)
    assert len(got) == len(want)
    key = ["model", "noise", "certifier", "norm", "alpha", "image"]
    got = got.sort_values(key).reset_index(drop=True)
    want = want.sort_values(key).reset_index(drop=True)
    for col in ("label", "prediction", "p_lower", "radius", "seconds", "confidence_spent"):
        assert got[col].tolist() == want[col].tolist(), col
    assert got["abstained"].tolist() == (want["prediction"] == -1).tolist()
    assert got["correct"].tolist() == want["correct"].astype(bool).tolist()
    # image 4 abstains everywhere; class 0 answered right is neither abstained nor wrong
    assert got.loc[got["image"] == 4, "abstained"].all()
    zero = got[(got["prediction"] == 0) & (got["label"] == 0)]
    assert len(zero) and not zero["abstained"].any() and zero["correct"].all()
    assert got["family"].tolist() == [
        "gaussian" if nz.startswith("gaussian") else "laplace" for nz in want["noise"]
    ]


def test_deterministic_outcomes_are_the_stored_radii_right_where_prediction_is_label(tmp_path):
    path = _store(tmp_path)
    raw = _raw(path, "SELECT * FROM deterministic_radii").sort_values("image")
    got = load_deterministic_outcomes(path).sort_values("image").reset_index(drop=True)
    assert got["radius"].tolist() == raw["radius"].tolist()
    assert got["seconds"].tolist() == raw["seconds"].tolist()
    assert got["prediction"].tolist() == raw["prediction"].tolist()
    assert got["correct"].tolist() == (raw["prediction"] == raw["label"]).tolist()
    assert got["correct"].tolist() == [i % 2 == 0 for i in range(N_IMAGES)]
