"""An imported row repeats the run's own certificates (a file ``smoothbench export`` or
Cohen et al.'s code printed) but its radii are printed to 3 significant digits and read
back as the smallest value printed so: every one a little smaller than the run's. Its ACR
then trails the run's row on every image, and the paired test marks it ▼, with nothing
to say that the gap is the file's rounding. The board now says so, where the rows differ
by no more than that rounding on every image both hold, and only there."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from harness.certify import certify_store
from harness.interop.cohen_tsv import (
    format_radius,
    is_printed_reading,
    lowest_radius_printed_as,
)
from harness.noise import Gaussian
from harness.store import ImportedRow
from reports import significance as sig
from reports.cli import make_report
from reports.leaderboard import printed_rounding_notes, within_printed_rounding
from reports.rows import Row
from tests.reports._report_synth import (
    ALPHA,
    DIM,
    add_counts,
    cohen_by_hand,
    copy_certificates,
    new_store,
)

radii = st.floats(1e-6, 1e4, allow_nan=False, allow_infinity=False)


@given(radii)
@example(1.0009)  # read back as 0.9995: one unit of the larger's third digit, 1.4 of its own
def test_printing_to_three_digits_and_reading_back_stays_within_the_rounding(r):
    cohens = lowest_radius_printed_as(format(r, ".3"))  # Cohen's code: to the nearest
    ours = float(format_radius(r))  # smoothbench export: down
    ours_read_as_cohens = lowest_radius_printed_as(format_radius(r))  # without its index
    read = np.array([cohens, ours, ours_read_as_cohens])
    assert within_printed_rounding(read, np.full(3, r)).all()
    assert all(is_printed_reading(v) for v in read)


@given(radii, st.floats(0.016, 0.5))
def test_a_gap_beyond_one_and_a_half_units_of_the_third_digit_is_not_rounding(r, gap):
    assert not within_printed_rounding(np.array([r * (1 - gap)]), np.array([r])).any()


@given(radii, st.floats(1e-9, 0.5))
def test_a_reading_above_the_radius_is_never_rounding(r, gap):
    """Reading a printed radius as the smallest value printed so never raises it."""
    assert not within_printed_rounding(np.array([r * (1 + gap)]), np.array([r])).any()


def test_infinite_radii_are_rounding_only_when_equal():
    inf = float("inf")
    assert within_printed_rounding(np.array([inf, 0.0]), np.array([inf, 0.0])).all()
    assert not within_printed_rounding(np.array([1.0, inf]), np.array([inf, 1.0])).any()


def test_full_precision_radii_are_not_printed_readings():
    assert not is_printed_reading(0.123456)
    assert not is_printed_reading(lowest_radius_printed_as("0.5") * (1 + 1e-12))
    assert is_printed_reading(0.0) and not is_printed_reading(float("inf"))


def _report(tmp_path, lower_one_image_by: float = 0.0, *, printed: bool = True,
            scale: float = 1.0, smoothing_copy: bool = False):  # fmt: skip
    path = tmp_path / "s.sqlite"
    n_images = 40
    store = new_store(path, n_images, {"m": 0.25})
    labels = np.arange(n_images) % 10
    noise = Gaussian(0.25, DIM)
    top = 700 + 7 * np.arange(n_images)  # of N = 1000 draws: radii spread over many digits
    add_counts(store, "m", noise, labels, labels, top)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    run = {
        image: radius
        for image, radius in store.query(
            "SELECT image, radius FROM certificates WHERE certifier = 'cohen'"
        )
    }
    imported = []
    for image in range(n_images):
        radius = lowest_radius_printed_as(format(run[image], ".3")) if printed else run[image]
        radius *= scale
        if image == 0:
            radius *= 1 - lower_one_image_by
        imported.append(ImportedRow("synthetic", "m", noise.name, "cohen", "l2", ALPHA, image,
                                    int(labels[image]), int(labels[image]), radius, True, 1.0,
                                    "cohen.tsv"))  # fmt: skip
    if not smoothing_copy:
        store.put_imported(imported)
    else:  # a certifier of this run whose radii are Cohen's, printed
        copy_certificates(store, "cohen", "printed",
                          lambda p, spec, norm: lowest_radius_printed_as(
                              format(cohen_by_hand(p, spec, norm), ".3")))  # fmt: skip
    store.close()
    report, _ = make_report(path)
    (board,) = report.boards
    (row,) = [r for r in board.rows if "cohen" not in r.certifiers or r.kind == "imported"]
    marked = any(sig.MARK_DOWN in mark for (key, _), mark in board.marks.items() if key == row.key)
    notes = [n for n in board.notes if "printed rounding" in n]
    return marked, notes


def test_an_imported_copy_of_the_run_is_marked_and_the_board_says_why(tmp_path):
    marked, notes = _report(tmp_path, 0.0)
    assert marked  # the rounding alone is a significant paired gap on ACR
    assert len(notes) == 1
    assert "on all 40 images both hold" in notes[0]


def test_a_gap_beyond_the_rounding_on_one_image_earns_no_such_note(tmp_path):
    marked, notes = _report(tmp_path, 0.05)
    assert marked
    assert notes == []


def test_an_imported_copy_at_full_precision_is_not_marked_and_earns_no_note(tmp_path):
    marked, notes = _report(tmp_path, printed=False)
    assert not marked
    assert notes == []


def test_full_precision_radii_just_below_or_above_the_runs_earn_no_note(tmp_path):
    """Within the rounding's width, but not a printed file's readings (or above the run's
    radii, where no reading of a printed radius lies): the gap is the certificates'."""
    for scale in (0.9995, 1.0009):
        marked, notes = _report(tmp_path / str(scale), printed=False, scale=scale)
        assert marked or scale > 1  # below: marked ▼ on ACR
        assert notes == []


def _rows(correct_imported: np.ndarray) -> SimpleNamespace:
    """A board of two rows: the run's and an imported one, its radii printed to 3
    significant digits and read back as Cohen et al.'s files are."""
    images = np.arange(4)
    radius = np.array([0.50043, 0.25021, 1.00117, 0.0])
    right = radius > 0

    def row(kind, r, correct):
        return Row("m", "g", ("cohen",), "gaussian", "g", images, r, correct, ~right, r,
                   0.1, 0.0, kind=kind)  # fmt: skip

    printed = np.array([lowest_radius_printed_as(format(r, ".3")) for r in radius])
    run, imported = row("smoothing", radius, right), row("imported", printed, correct_imported)
    return SimpleNamespace(
        rows=[run, imported],
        refs={imported.key: {sig.SAME_NOISE: run}},
        marks={(imported.key, "acr"): sig.MARK_DOWN},
    )


def test_an_imported_row_wrong_on_an_image_the_run_gets_right_earns_no_such_note():
    right = np.array([True, True, True, False])
    assert len(printed_rounding_notes(_rows(right))) == 1
    assert printed_rounding_notes(_rows(np.array([True, False, True, False]))) == []


def test_a_row_of_the_run_within_the_rounding_earns_no_such_note(tmp_path):
    """Its radii are this run's certificates: no file rounded them."""
    marked, notes = _report(tmp_path, smoothing_copy=True)
    assert marked
    assert notes == []
