"""Deterministic certification in a run: every model (smoothed or not) on the same test
images, at the eps grid and the bisection radius; resumable; read back by reports."""

from __future__ import annotations

import pytest

from harness import runner
from harness.config import parse
from harness.deterministic import eps_grid
from harness.store import Store
from reports.tidy import DETERMINISTIC_COLUMNS, load_deterministic_outcomes, load_outcomes


def config(certifiers=("cohen", "ibp", "crown"), report=None, **run):
    return parse(
        {
            "run": {"name": "det", "dataset": "digits", "seed": 1, "n_test": 6, "n0": 10,
                    "n": 200, "batch_size": 200, **run},
            "models": [
                {"recipe": "mlp", "sigma0": 0.25},
                {"recipe": "mlp", "sigma0": 0.25, "name": "deterministic-only",
                 "smoothing": False},
            ],
            "noises": [{"family": "gaussian"}],
            "certify": {"certifiers": list(certifiers), "alpha": [0.001],
                        "options": {"crown": {"batch_size": 4}} if "crown" in certifiers else {}},
            "report": report or {"radii": {"linf": [0.0, 0.005, 0.02]}},
        }
    )  # fmt: skip


def tables(path):
    with Store(path) as st:
        certs = [r[:7] for r in st.table_rows("deterministic_certificates")]  # no seconds
        radii = [r[:7] for r in st.table_rows("deterministic_radii")]
        models = {r[0] for r in st.table_rows("counts")}
    return certs, radii, models


def test_every_model_is_certified_at_the_grid_and_the_radius(tmp_path):
    cfg = config()
    assert eps_grid(cfg) == (0.0, 0.005, 0.02)
    path = runner.run(cfg, tmp_path / "s.sqlite", progress=False)
    certs, radii, counted = tables(path)
    assert counted == {"digits-mlp-sigma0.25"}  # smoothing = false: no counts
    assert len(certs) == 2 * 6 * 2 * 3 and len(radii) == 2 * 6 * 2
    by_key = {(m, i, c, e): (ok, margin) for m, i, c, n, e, ok, margin in certs}
    for m, i, c, n, label, prediction, radius in radii:
        assert n == "linf" and 0.0 <= radius <= 1.0
        for eps in (0.0, 0.005, 0.02):
            ok, margin = by_key[m, i, c, eps]
            assert ok == (margin > 0)
            if ok:
                assert radius >= eps and prediction == label
        if prediction != label:
            assert radius == 0.0
    # the same weights under two names: the same certificates
    same = {(i, c, e): v for (m, i, c, e), v in by_key.items() if m == "deterministic-only"}
    other = {(i, c, e): v for (m, i, c, e), v in by_key.items() if m != "deterministic-only"}
    assert same == other
    with Store(path) as st:
        options = st.get_manifest("certifier_options")
    assert options["crown"]["batch_size"] == 4 and options["ibp"]["dtype"] == "float64"
    df = load_deterministic_outcomes(path)
    assert list(df.columns) == DETERMINISTIC_COLUMNS and len(df) == 2 * 6 * 2
    assert set(df["certifier"]) == {"ibp", "crown"} and (df["dataset"] == "digits").all()
    assert (df["correct"] == (df["prediction"] == df["label"])).all()
    # the count certificates know nothing of the deterministic certifiers
    assert set(load_outcomes(path)["certifier"]) == {"cohen"}
    # the same images as the smoothing rows, so that paired tests apply
    assert set(df["image"]) == set(load_outcomes(path)["image"])


def test_a_resumed_run_fills_in_what_is_missing(tmp_path):
    cfg = config()
    full = runner.run(cfg, tmp_path / "full.sqlite", progress=False)
    part = tmp_path / "part.sqlite"
    runner.run(cfg, part, progress=False)
    with Store(part) as st, st.transaction() as db:
        db.execute("DELETE FROM deterministic_radii WHERE image IN (SELECT MIN(image) FROM counts)")
        db.execute("DELETE FROM deterministic_certificates WHERE eps = 0.02 AND certifier = 'ibp'")
    runner.run(cfg, part, progress=False)
    (certs, radii, models), (certs_full, radii_full, models_full) = tables(part), tables(full)
    assert radii == radii_full and models == models_full
    # margins recomputed in another batch may differ in the last bits (matrix products)
    assert [r[:6] for r in certs] == [r[:6] for r in certs_full]
    assert [r[6] for r in certs] == pytest.approx([r[6] for r in certs_full], rel=1e-12)


def test_no_deterministic_certifier_no_rows(tmp_path):
    path = runner.run(config(certifiers=("cohen",)), tmp_path / "s.sqlite", progress=False)
    certs, radii, _ = tables(path)
    assert certs == [] and radii == []
    assert load_deterministic_outcomes(path).empty


def test_older_stores_open_with_the_new_tables(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO manifest VALUES ('schema_version', '1');"
    )
    db.close()
    with Store(path) as st:
        assert st.table_rows("deterministic_radii") == []
    with pytest.raises(ValueError, match="unknown table"):
        Store(path).table_rows("nope")


@pytest.mark.filterwarnings("ignore:`torch.jit.(script|load)` is deprecated:FutureWarning")
def test_a_model_the_certifiers_cannot_read_is_skipped_with_a_warning(tmp_path):
    import torch

    from baselines.architectures import build
    from harness.deterministic import DeterministicSkipWarning

    scripted = tmp_path / "mlp.pt"
    torch.jit.script(build("mlp").eval()).save(str(scripted))
    cfg = parse(
        {
            "run": {"name": "ts", "dataset": "digits", "seed": 1, "n_test": 3, "n0": 10,
                    "n": 100, "batch_size": 100},
            "models": [{"checkpoint": str(scripted), "sigma0": 0.25}],
            "noises": [{"family": "gaussian"}],
            "certify": {"certifiers": ["cohen", "ibp"]},
        }
    )  # fmt: skip
    with pytest.warns(DeterministicSkipWarning, match="TorchScript"):
        path = runner.run(cfg, tmp_path / "s.sqlite", progress=False)
    with Store(path) as st:
        skipped = st.get_manifest("deterministic_skipped")
        assert st.table_rows("deterministic_radii") == []
    assert "TorchScript" in skipped["mlp"]["ibp"]
    assert len(load_outcomes(path)) == 3 * 3  # the counts were certified all the same


def test_a_grid_eps_above_one_is_stored_as_radius_one(tmp_path):
    """At eps >= 1 the clipped box is all of [0, 1]^d, so a certificate at a grid eps of
    1.5 certifies radius 1 and no more: the stored radius is capped where the bisection's
    is, whatever the grid holds."""
    import torch

    from baselines.datasets import load_dataset
    from baselines.models import ModelEntry
    from harness.deterministic import certify_deterministic

    data = load_dataset("digits")
    images = [int(i) for i in data.test_indices[:60] if data[int(i)][1] == 3][:2]
    assert len(images) == 2, "digits has two 3s among its first test images"
    constant = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    with torch.no_grad():
        constant[1].weight.zero_()
        constant[1].bias.copy_((torch.arange(10) == 3).float())
    cfg = config(report={"radii": {"linf": [0.5, 1.5]}})
    entry = ModelEntry("constant", constant, "0" * 64, None)
    with Store(tmp_path / "s.sqlite") as st:
        certify_deterministic(st, cfg, [entry], data, images, torch.device("cpu"), False)
        certs = st.table_rows("deterministic_certificates")
        radii = st.table_rows("deterministic_radii")
    assert {(r[4], r[5]) for r in certs} == {(0.0, 1), (0.5, 1), (1.5, 1)}
    assert {r[2] for r in radii} == {"ibp", "crown"}
    assert [r[6] for r in radii] == [1.0] * 4


def test_a_network_whose_rounding_slack_leaves_nothing_to_certify_is_named(tmp_path):
    """Weights of 1e4 in each of the MLP's three layers: the absolute-value pass reaches
    about 1e16, so no margin below about 1e7 certifies; the run says so for each
    deterministic certifier, and certifies none of its images, rather than leave the
    empty column unexplained."""
    import torch

    from baselines.architectures import build
    from harness.deterministic import DeterministicSlackWarning

    model = build("mlp").eval()
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, torch.nn.Linear):
                layer.weight.mul_(1e4)
    path = tmp_path / "mlp.pt"
    torch.save(model.state_dict(), path)
    cfg = parse(
        {
            "run": {"name": "big", "dataset": "digits", "seed": 1, "n_test": 3, "n0": 10,
                    "n": 100, "batch_size": 100},
            "models": [{"checkpoint": str(path), "arch": "mlp", "sigma0": 0.25}],
            "noises": [{"family": "gaussian"}],
            "certify": {"certifiers": ["cohen", "ibp", "crown"]},
        }
    )  # fmt: skip
    with pytest.warns(DeterministicSlackWarning) as caught:
        path = runner.run(cfg, tmp_path / "s.sqlite", progress=False)
    said = sorted(
        str(w.message).split(" on ")[0] for w in caught if w.category is DeterministicSlackWarning
    )
    assert said == ["crown", "ibp"]
    with Store(path) as st:
        radii = [row[6] for row in st.table_rows("deterministic_radii")]  # radius column
    assert len(radii) == 3 * 2 and all(r == 0 for r in radii)
