"""``build_rows`` on hand-made tidy tables: which certifiers share a row, what the merged
row holds, and that rows of another kind (imported, deterministic) or of an unsound
certifier are never merged into a sampled row."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.noise import Gaussian
from reports.columns import Context, board_columns
from reports.rows import build_rows


def table(cert, radius, correct=None, *, images=None, model="m", noise="g25", kind="smoothing",
          abstained=None, spent=0.0, seconds=0.01):  # fmt: skip
    n = len(radius)
    images = list(range(n)) if images is None else images
    correct = [r > 0 for r in radius] if correct is None else correct
    abstained = [False] * n if abstained is None else abstained
    return pd.DataFrame(
        {
            "model": model, "noise": noise, "family": "gaussian", "certifier": cert,
            "image": images, "radius": radius, "correct": correct, "abstained": abstained,
            "p_lower": 0.9, "seconds": seconds, "confidence_spent": spent, "kind": kind,
        }
    )  # fmt: skip


def rows_of(*frames, **kw):
    return build_rows(pd.concat(frames, ignore_index=True), reference="cohen", **kw)


def test_certifiers_with_the_same_outcomes_share_one_row_the_reference_first():
    radius = [0.5, 0.0, 1.25, 0.3]
    out = rows_of(
        table("aaa", [r * (1 + 1e-9) for r in radius], spent=0.01),
        table("cohen", radius),
        table("zzz", radius, spent=0.002),
    )
    assert len(out) == 1
    (row,) = out
    assert row.certifiers == ("cohen", "aaa", "zzz")
    assert row.radius.tolist() == radius  # the smallest of the merged radii
    assert row.confidence_spent == 0.01  # the largest confidence any of them spent


def test_certifiers_that_differ_anywhere_keep_their_own_rows():
    base = table("cohen", [0.5, 0.5, 0.0])
    cases = {
        "radius off by 1e-4 on one image": table("x", [0.5, 0.50005, 0.0]),
        "same radii, one image right vs wrong": table("x", [0.5, 0.5, 0.0], [True, True, True]),
        "one radius equal, the others not": table("x", [0.5, 0.7, 0.2]),
        "same outcomes on other images": table("x", [0.5, 0.5, 0.0], images=[0, 1, 3]),
    }
    for why, other in cases.items():
        out = rows_of(base, other)
        assert sorted(r.certifiers for r in out) == [("cohen",), ("x",)], why


def test_an_unsound_certifier_is_never_merged_into_a_sound_row():
    radius = [0.5, 0.2]
    out = rows_of(table("cohen", radius), table("x", radius), unsound={("m", "g25", "x")})
    assert sorted(r.certifiers for r in out) == [("cohen",), ("x",)]


def test_rows_of_another_kind_stay_apart_and_keep_their_kind():
    radius = [0.5, 0.2, 0.0]
    out = rows_of(
        table("cohen", radius),
        table("cohen", radius, kind="imported"),
        table("ibp", radius, noise="none", kind="deterministic"),
    )
    by_kind = {r.kind: r for r in out}
    assert sorted(by_kind) == ["deterministic", "imported", "smoothing"]
    assert by_kind["smoothing"].key == ("m", "g25", "cohen")
    assert by_kind["imported"].key == ("m", "g25", "cohen [imported]")
    assert by_kind["deterministic"].key == ("m", "none", "ibp [deterministic]")
    assert by_kind["deterministic"].label == "no smoothing"
    assert by_kind["deterministic"].shown_label == "no smoothing"
    assert by_kind["imported"].label == "g25"  # no spec for it: its own name
    assert by_kind["imported"].shown_label == "g25 (imported)"


def test_a_row_holds_its_images_sorted_with_their_own_outcomes():
    frame = table(
        "cohen", [0.0, 0.4, 0.9, 0.0], [False, True, True, False], images=[7, 2, 5, 0],
        abstained=[True, False, False, False],
    )  # fmt: skip
    (row,) = rows_of(frame)
    assert row.images.tolist() == [0, 2, 5, 7]
    assert row.radius.tolist() == [0.0, 0.4, 0.9, 0.0]
    assert row.correct.tolist() == [False, True, True, False]  # image 0: answered, wrong
    assert row.abstained.tolist() == [False, False, False, True]


def test_a_noise_matched_to_its_models_sigma_is_labelled_without_its_scale():
    noise = Gaussian(0.25, 64)
    specs = {"g25": noise.spec()}
    frames = [table("cohen", [0.5], model="m25"), table("cohen", [0.5], model="m50")]
    out = rows_of(*frames, specs=specs, sigma0={"m25": 0.25, "m50": 0.5})
    labels = {r.model: r.label for r in out}
    assert labels == {"m25": "Gaussian", "m50": "Gaussian sigma=0.25"}


def test_merged_rows_count_each_image_once():
    radius = [0.5, 0.2, 0.0, 1.0]
    (row,) = rows_of(table("cohen", radius), table("x", radius))
    assert row.n == 4
    assert np.array_equal(row.images, np.arange(4))


def test_a_merged_rows_names_and_its_seconds_per_image():
    radius = [0.5, 0.2, 0.0, 1.0]
    (row,) = rows_of(table("cohen", radius, seconds=0.25), table("x", radius), table("y", radius))
    assert row.certifier_short == "cohen +2"
    assert row.certifier == "cohen = x = y"
    assert row.full_label() == "m · g25 · cohen = x = y"
    assert row.seconds == 0.25  # per image, not the row's total
    (column,) = [c for c in board_columns([0.0, 0.5]) if c.json_key == "sampling_seconds_per_image"]
    assert column.value(row, Context(0.001)) == 0.25
