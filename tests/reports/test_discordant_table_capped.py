"""The appendix lists at most ``DISCORDANT_SHOWN`` images behind a headline's gap, and its
caption gives the ``smoothbench compare`` command that lists them all (at 10,000 images
the appendix listed 8,729 table lines and the HTML page weighed 8 MB)."""

from __future__ import annotations

import re
import shlex
from dataclasses import replace

import numpy as np

import reports.view as view
from harness.certify import certify_store
from harness.cli import main
from harness.noise import Gaussian
from harness.store import CertificateRow, ImportedRow, Store
from reports.cli import make_report
from reports.headline import compare_rows
from reports.view import DISCORDANT_SHOWN, discordant_table
from tests.reports._report_synth import ALPHA, DIM, N_CLASSES, add_counts, new_store, winner_store


def test_the_first_images_are_shown_and_the_command_lists_them_all(tmp_path, capsys):
    path = tmp_path / "s.sqlite"
    winner_store(path, n_images=400).close()
    report, (h,) = make_report(path)
    table = discordant_table(report.boards[0], h)
    assert table is not None
    found = h.n10 + h.n01
    assert found > DISCORDANT_SHOWN
    shown = [int(cells[0].text) for cells in table.rows]
    assert len(shown) == DISCORDANT_SHOWN and shown == sorted(shown)
    assert f"The first {DISCORDANT_SHOWN} of {found} by index" in table.caption
    command = re.search(r"`(smoothbench compare [^`]+)` lists them all", table.caption)
    assert command is not None
    capsys.readouterr()
    assert main(shlex.split(command.group(1).replace("STORE", shlex.quote(str(path))))[1:]) == 0
    listed = [
        int(line.split()[0]) for line in capsys.readouterr().out.splitlines()[2:] if line.strip()
    ]
    assert len(listed) == found and listed[:DISCORDANT_SHOWN] == shown


N_IMAGES = 120
LABELS = np.arange(N_IMAGES) % N_CLASSES


def _listed(command: str, path, capsys) -> list[int]:
    capsys.readouterr()
    assert main(shlex.split(command.replace("STORE", shlex.quote(str(path))))[1:]) == 0
    lines = capsys.readouterr().out.splitlines()[2:]
    return [int(line.split()[0]) for line in lines if line.strip()]


def _every_image(board, h, monkeypatch) -> list[int]:
    monkeypatch.setattr(view, "DISCORDANT_SHOWN", 10**9)
    table = view.discordant_table(board, h)
    return [] if table is None else [int(cells[0].text) for cells in table.rows]


def _two_models(path, seed: int, lowest_top: int) -> tuple[Store, Gaussian]:
    """Models ``m`` and ``m2`` on one Gaussian noise, right on every image with varied
    top counts, certified by Cohen's certifier."""
    store = new_store(path, N_IMAGES, {"m": 0.25, "m2": 0.25})
    noise = Gaussian(0.25, DIM)
    rng = np.random.default_rng(seed)
    add_counts(store, "m", noise, LABELS, LABELS, rng.integers(600, 1000, N_IMAGES))
    add_counts(store, "m2", noise, LABELS, LABELS, rng.integers(lowest_top, 1000, N_IMAGES))
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    return store, noise


def test_a_run_row_beside_an_imported_row_of_the_same_names(tmp_path, capsys, monkeypatch):
    """Imported rows share the run's model and noise names, so the command names each
    row's kind, or compare refuses the run's row as two rows (review of the cap)."""
    path = tmp_path / "s.sqlite"
    store, noise = _two_models(path, seed=0, lowest_top=500)
    radius = store.query("SELECT radius FROM certificates WHERE model = 'm' ORDER BY image")
    store.put_imported(
        [
            ImportedRow("synthetic", "m", noise.name, "cohen", "l2", ALPHA, i, int(y), int(y),
                        r, True, 0.1, "paper.tsv")
            for i, (y, (r,)) in enumerate(zip(LABELS, radius, strict=True))
        ]
    )  # fmt: skip
    store.close()
    report, (h,) = make_report(path)
    assert {h.row.kind, h.other.kind} == {"smoothing"}
    command = view.compare_command(report.boards[0], h)
    assert _listed(command, path, capsys) == _every_image(report.boards[0], h, monkeypatch)


def test_a_row_of_several_certifiers_says_whose_radii_the_command_takes(
    tmp_path, capsys, monkeypatch
):
    """A row of several certifiers (``cohen = functional``) holds the smallest of their
    radii; compare takes the first certifier's. The caption says so, and the two lists
    differ only at images whose two radii lie on both sides of the quoted radius."""
    path = tmp_path / "s.sqlite"
    store, _ = _two_models(path, seed=1, lowest_top=600)
    rows = store.query(
        "SELECT model, noise, image, norm, alpha, prediction, p_lower, radius, correct,"
        " confidence_spent FROM certificates WHERE certifier = 'cohen'"
    )
    store.put_certificates(
        [
            CertificateRow(m, nz, i, "functional", nm, a, pr, pl, r * (1 - 5e-8), bool(c), cs)
            for m, nz, i, nm, a, pr, pl, r, c, cs in rows
        ]
    )
    store.close()
    of_m = sorted(r[7] for r in rows if r[0] == "m" and r[7] > 0)
    grid = of_m[len(of_m) // 2]  # a radius cohen gives an image of m exactly
    report, _ = make_report(path, radii=[0.0, grid, 0.5])
    board = report.boards[0]
    first = next(r for r in board.rows if r.model == "m")
    other = next(r for r in board.rows if r.model == "m2")
    assert first.certifiers == other.certifiers == ("cohen", "functional")
    h = replace(compare_rows(board, first, other), radius=grid)
    every = _every_image(board, h, monkeypatch)
    monkeypatch.setattr(view, "DISCORDANT_SHOWN", 5)
    caption = view.discordant_table(board, h).caption
    assert "(compare takes the radii of cohen, where this table takes the smallest" in caption
    listed = _listed(view.compare_command(board, h), path, capsys)
    straddle = {int(r[2]) for r in rows if r[7] * (1 - 5e-8) < grid <= r[7]}
    assert set(listed) ^ set(every) <= straddle
    assert set(listed) ^ set(every)  # the edge image this store was made to hold
