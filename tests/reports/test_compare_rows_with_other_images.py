"""``compare`` pairs two rows on the images both hold, and says so when they hold
different ones: how many each row holds and how many are left out (the counts it prints
are of the shared images, not each row's own accuracy); rows that share no image are
refused, not compared with p = 1."""

from __future__ import annotations

import sqlite3

import pytest

from reports.discordant import compare_rows_by_image
from tests.reports._report_synth import winner_store

FIRST, SECOND = ("m-mid", "gaussian", "cohen"), ("m-win", "gaussian", "cohen")


def _store(tmp_path, drop_first, drop_second):
    path = tmp_path / "s.sqlite"
    with winner_store(path):
        pass
    db = sqlite3.connect(path)
    with db:
        for model, images in ((FIRST[0], drop_first), (SECOND[0], drop_second)):
            for image in images:
                db.execute("DELETE FROM certificates WHERE model = ? AND image = ?", (model, image))
        held = [
            sorted(i for (i,) in db.execute(
                "SELECT DISTINCT image FROM certificates WHERE model = ? AND norm = 'l2'", (m,)
            ))
            for m in (FIRST[0], SECOND[0])
        ]  # fmt: skip
    db.close()
    return path, held


def test_rows_holding_different_images_are_compared_on_the_shared_ones_and_say_so(tmp_path):
    path, (first, second) = _store(tmp_path, drop_first=range(0, 6), drop_second=range(6, 10))
    shared = set(first) & set(second)
    assert shared and len(first) != len(second)
    table, summary = compare_rows_by_image(path, FIRST, SECOND, "l2", 0.0)
    assert summary.startswith(f"{len(shared)} shared images (the first row holds {len(first)}")
    left_out = len(first) + len(second) - 2 * len(shared)
    assert f"the second {len(second)}: the {left_out} images of one row only are left out" in (
        summary
    )
    assert set(table["image"]) <= shared


def test_rows_holding_the_same_images_say_nothing_of_it(tmp_path):
    path, (first, second) = _store(tmp_path, drop_first=(), drop_second=())
    assert first == second
    _, summary = compare_rows_by_image(path, FIRST, SECOND, "l2", 0.0)
    assert summary.startswith(f"{len(first)} shared images; certified")


def test_rows_sharing_no_image_are_refused(tmp_path):
    path, (every, _) = _store(tmp_path, drop_first=(), drop_second=())
    half = len(every) // 2
    path, (first, second) = _store(tmp_path / "x", every[half:], every[:half])
    assert first and second and not set(first) & set(second)
    with pytest.raises(ValueError, match="share no image"):
        compare_rows_by_image(path, FIRST, SECOND, "l2", 0.0)
