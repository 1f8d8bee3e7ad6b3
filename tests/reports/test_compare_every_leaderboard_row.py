"""``smoothbench compare`` names any row a leaderboard shows: deterministic rows (noise
``none``) and imported rows too, and chooses by kind where a run's row and an imported one
share their names. It called a model with deterministic rows only unknown ("stored: []")
and a store of imported rows only empty, and took the run's row without a word where an
imported row had the same names."""

from __future__ import annotations

import numpy as np
import pytest

from harness.certify import certify_store
from harness.cli import main
from harness.noise import Gaussian
from harness.store import DeterministicRadiusRow, ImportedRow
from reports.discordant import compare_rows_by_image
from tests.reports._report_synth import ALPHA, DIM, N_CLASSES, add_counts, new_store

N_IMAGES = 20
LABELS = np.arange(N_IMAGES) % N_CLASSES


def _eps(i: int) -> float:
    return 0.01 * (i % 7)


def _deterministic_store(path):
    store = new_store(path, N_IMAGES, {}, config={"report": {"reference": "cohen"}})
    store.put_manifest(
        {"models": {"m-det": {"sha256": "0" * 64, "sigma0": None, "smoothing": False}}}
    )
    rows = [
        DeterministicRadiusRow("m-det", i, cert, "linf", int(y), int(y), _eps(i) + shift, 0.001)
        for cert, shift in (("ibp", 0.0), ("crown", 0.005))
        for i, y in enumerate(LABELS)
    ]
    store.put_deterministic([], rows)
    store.close()
    return path


def test_deterministic_rows_are_compared(tmp_path):
    path = _deterministic_store(tmp_path / "det.sqlite")
    table, summary = compare_rows_by_image(
        path, ("m-det", "none", "crown"), ("m-det", "none", "ibp"), "linf", 0.022
    )
    # crown's eps is ibp's + 0.005 on every image: at 0.022 crown alone certifies i % 7 == 2
    only_crown = {i for i in range(N_IMAGES) if _eps(i) < 0.022 <= _eps(i) + 0.005}
    assert set(table["image"]) == only_crown and set(table["certified by"]) == {"first"}
    assert f"only the first {len(only_crown)}, only the second 0" in summary
    assert "reach" not in summary  # no draws behind either row


def _run_and_imported_store(path, shift: float):
    """A run's Gaussian Cohen row, and an imported row of the same names whose radii are
    the run's plus ``shift``."""
    store = new_store(path, N_IMAGES, {"m": 0.25})
    noise = Gaussian(0.25, DIM)
    add_counts(store, "m", noise, LABELS, LABELS, [990] * N_IMAGES)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    radius = store.query("SELECT radius FROM certificates ORDER BY image")
    rows = [
        ImportedRow("synthetic", "m", noise.name, "cohen", "l2", ALPHA, i, int(y), int(y),
                    r + shift * (i % 2), True, 0.1, "paper.tsv")
        for i, (y, (r,)) in enumerate(zip(LABELS, radius, strict=True))
    ]  # fmt: skip
    store.put_imported(rows)
    store.close()
    return path, float(radius[0][0])


def test_a_run_row_and_an_imported_row_of_the_same_names_are_told_apart(tmp_path):
    path, r = _run_and_imported_store(tmp_path / "s.sqlite", 0.1)
    row = ("m", "gaussian", "cohen")
    with pytest.raises(ValueError, match="names 2 rows .imported, smoothing.: choose one"):
        compare_rows_by_image(path, row, row, "l2", r + 0.05)
    table, summary = compare_rows_by_image(
        path, row, row, "l2", r + 0.05, kinds=("imported", "smoothing")
    )
    # the imported radii are 0.1 above the run's on the odd images only
    assert set(table["image"]) == set(range(1, N_IMAGES, 2))
    assert set(table["certified by"]) == {"first"} and table["p_A first"].isna().all()
    with pytest.raises(ValueError, match="has no deterministic row; its rows: imported"):
        compare_rows_by_image(path, row, row, "l2", r, kinds=("deterministic", None))


def test_a_store_of_imported_rows_only_is_compared(tmp_path):
    store = new_store(tmp_path / "imp.sqlite", N_IMAGES, {})
    noise = Gaussian(0.25, DIM)
    rows = [
        ImportedRow("synthetic", model, noise.name, "cohen", "l2", ALPHA, i, int(y), int(y),
                    0.5 + (0.1 if model == "a" and i < 5 else 0.0), True, 0.1, f"{model}.tsv")
        for model in ("a", "b") for i, y in enumerate(LABELS)
    ]  # fmt: skip
    store.put_imported(rows, {noise.name: noise.spec()})
    store.close()
    table, _ = compare_rows_by_image(
        tmp_path / "imp.sqlite", ("a", "gaussian", "cohen"), ("b", "gaussian", "cohen"), "l2", 0.55
    )
    assert set(table["image"]) == set(range(5))


def test_the_command_line_takes_the_kinds(tmp_path, capsys):
    path, r = _run_and_imported_store(tmp_path / "s.sqlite", 0.1)
    argv = ["compare", str(path), "--first", "m", "gaussian", "cohen", "--second", "m",
            "gaussian", "cohen", "--norm", "l2", "--radius", str(r + 0.05)]  # fmt: skip
    assert main(argv) == 2
    assert "--first-kind or --second-kind" in capsys.readouterr().err
    assert main([*argv, "--first-kind", "imported", "--second-kind", "smoothing"]) == 0
    out = capsys.readouterr().out
    assert f"only the first {N_IMAGES // 2}, only the second 0" in out
    # the imported row has no p_A: a dash, not NaN
    lines = out.splitlines()[2:]
    assert len(lines) == N_IMAGES // 2 and "NaN" not in out
    assert all(line.split()[3] == "-" for line in lines)


def test_reading_two_rows_only_keeps_the_names_and_alphas_of_the_whole_store(tmp_path):
    """compare reads the rows of its two models against its norm only; a model it is not
    given is still named from the whole store, and deterministic rows stand at the alphas
    of the store's other rows, as on the leaderboard."""
    path = _deterministic_store(tmp_path / "s.sqlite")
    from harness.store import Store

    with Store(path) as store:
        add_counts(store, "m-smooth", Gaussian(0.25, DIM), LABELS, LABELS, [990] * N_IMAGES)
        certify_store(store, ["cohen"], ["l2", "linf"], [0.01], progress=False)
    with pytest.raises(ValueError, match=r"unknown model 'm-smoth'; did you mean 'm-smooth'"):
        compare_rows_by_image(
            path, ("m-det", "none", "crown"), ("m-smoth", "gaussian", "cohen"), "linf", 0.01
        )
    with pytest.raises(ValueError, match=r"stored: \['m-det', 'm-smooth'\]"):
        compare_rows_by_image(
            path, ("zz", "gaussian", "cohen"), ("m-det", "none", "crown"), "linf", 0.01
        )
    table, _ = compare_rows_by_image(  # the store's one alpha, 0.01, not the config's
        path, ("m-det", "none", "crown"), ("m-det", "none", "ibp"), "linf", 0.022
    )
    assert set(table["image"]) == {i for i in range(N_IMAGES) if _eps(i) < 0.022 <= _eps(i) + 0.005}


def test_a_stored_model_without_rows_at_the_norm_is_not_called_unknown(tmp_path):
    """``--first m-det none ibp --norm l2``, where m-det's rows are against linf only, was
    answered "unknown model 'm-det'; did you mean ..." (CLI audit)."""
    path = tmp_path / "s.sqlite"
    store = new_store(path, N_IMAGES, {"m": 0.25})
    add_counts(store, "m", Gaussian(0.25, DIM), LABELS, LABELS, [990] * N_IMAGES)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    store.put_deterministic(
        [], [DeterministicRadiusRow("m-det", i, "ibp", "linf", int(y), int(y), 0.01, 0.001)
             for i, y in enumerate(LABELS)]
    )  # fmt: skip
    store.close()
    with pytest.raises(ValueError) as err:
        compare_rows_by_image(path, ("m-det", "none", "ibp"), ("m", "gaussian", "cohen"), "l2", 0.1)
    assert str(err.value) == (
        f"model 'm-det' has no certificates against l2 at alpha {ALPHA:g}; its certificates "
        f"are against linf at alpha {ALPHA:g}"
    )
