"""``load_outcomes`` reads the certificates in chunks, in the table's order, and keeps one
string object per name: a 10,000-image store (2.3 million certificates) peaked at 2.9 GB
in the load alone when every row held its own strings and tuples. The table is the one a
plain query gives, sorted by pandas."""

from __future__ import annotations

import json
import sqlite3
from functools import partialmethod

import pandas as pd

from harness.certify import certify_store
from harness.store import Store
from reports.tidy import OUTCOME_COLUMNS, load_outcomes
from tests.reports._report_synth import ALPHA, winner_store


def _by_plain_query(path) -> pd.DataFrame:
    """The outcome table from one ``fetchall`` of a join, built here with pandas."""
    with sqlite3.connect(path) as db:
        frame = pd.read_sql_query(
            "SELECT c.*, k.label, k.seconds, n.spec FROM certificates c JOIN counts k"
            " USING (model, noise, image) JOIN noises n USING (noise)",
            db,
        )
        dataset = json.loads(
            db.execute("SELECT value FROM manifest WHERE key = 'dataset'").fetchone()[0]
        )
    frame["family"] = [json.loads(s)["family"] for s in frame["spec"]]
    frame["dataset"] = dataset
    frame["correct"] = frame["correct"].astype(bool)
    frame["abstained"] = frame["prediction"] < 0
    keys = ["dataset", "norm", "model", "noise", "certifier", "alpha", "image"]
    return frame[OUTCOME_COLUMNS].sort_values(keys).reset_index(drop=True)


def test_the_table_is_the_plain_querys_whatever_the_chunk(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite"
    with winner_store(path, n_images=40) as store:  # every key varies: the order is checked
        certify_store(store, ["cohen", "fdiv-kl"], ["l1", "l2", "linf"], [ALPHA, 0.01],
                      progress=False)  # fmt: skip
    want = _by_plain_query(path)
    assert len(want) == 40 * 3 * 2 * 3 * 2
    for rows in (1 << 16, 7, 1):
        monkeypatch.setattr(Store, "query_chunks", partialmethod(Store.query_chunks, rows=rows))
        got = load_outcomes(path)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
        assert got["image"].dtype.kind == "i" and got["alpha"].dtype.kind == "f"
        for name in ("model", "noise", "certifier", "norm", "family", "dataset"):
            assert len({id(v) for v in got[name]}) == got[name].nunique(), name


def test_an_empty_store_gives_the_columns(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    got = load_outcomes(path)
    assert got.empty and list(got.columns) == OUTCOME_COLUMNS


def test_a_spec_of_an_uncertified_noise_is_not_read(tmp_path):
    """The family is read from the specs of the certified noises only: an imported
    noise's spec, taken from an export's index, may lack it (review)."""
    path = tmp_path / "s.sqlite"
    store = winner_store(path, n_images=40)
    store.put_noises({"theirs": {"params": {"sigma": 0.25}}})
    store.close()
    got = load_outcomes(path)
    assert len(got) == 120 and set(got["family"]) == {"gaussian"}
