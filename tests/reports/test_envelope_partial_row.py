"""The best-over-sigma0 envelope sets rows against each other per radius, so all of them
must hold the same images: a model sampled on part of them (a run, or an extension,
stopped part-way) is left out of it and named, not credited with its accuracy on its few
images against the others' on all."""

from __future__ import annotations

import numpy as np

from harness.certify import certify_store
from harness.noise import Gaussian
from reports.envelope import envelope, left_out_note
from reports.leaderboard import build_report
from reports.settings import ReportSettings
from reports.tidy import load_outcomes
from reports.view import envelope_table
from tests.reports._report_synth import ALPHA, DIM, add_counts, count_rows, new_store


def test_a_partially_sampled_model_does_not_win_the_envelope_on_its_few_images(tmp_path):
    n_images = 20
    config = {"report": {"reference": "cohen"},
              "certify": {"certifiers": ["cohen"], "norms": ["l2"]}}  # fmt: skip
    store = new_store(tmp_path / "s.sqlite", n_images, {"a": 0.25, "b": 0.5}, config=config)
    labels = np.arange(n_images) % 10
    wrong = (labels + 1) % 10
    # a (complete): certified at a large radius on images 0-3 and 6 more; wrong elsewhere
    right_a = np.zeros(n_images, dtype=bool)
    right_a[:10] = True
    add_counts(store, "a", Gaussian(0.25, DIM), labels, np.where(right_a, labels, wrong),
               np.full(n_images, 1000))  # fmt: skip
    # b (the extension's new model, stopped after 4 images): right on all 4 it has
    add_counts(store, "b", Gaussian(0.5, DIM), labels[:4], labels[:4], np.full(4, 1000))
    with store:
        store.put_manifest(
            {"sampled_noises": {"a": [Gaussian(0.25, DIM).name], "b": [Gaussian(0.5, DIM).name]}}
        )
        certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
        report = build_report(
            load_outcomes(store),
            manifest=store.manifest(),
            specs=store.noise_specs(),
            settings=ReportSettings(radii={"l2": (0.1,)}),
        )
    (board,) = report.boards
    assert board.n_images == n_images
    (env,) = envelope(board)
    # before: 100% (sigma0 = 0.5) at r = 0.1, from b's 4 images, against a's 50% on 20
    assert [r.model for r in env.rows] == ["a"] and set(env.models) == {"a"}
    (a,) = env.rows
    assert env.values == [float(a.certified(0.1).mean())] == [0.5]
    assert env.left_out == (("b", 4, n_images, "fewer"),)
    caption = envelope_table(board).caption
    assert f"b under {env.label} · cohen (4 of the 20 images of the rows kept)" in caption


def test_rows_of_the_same_images_are_all_kept(tmp_path):
    from tests.reports._report_synth import winner_board

    (env,) = envelope(winner_board(tmp_path / "s.sqlite", radii=(0.1, 0.5)))
    assert len(env.rows) == 3 and env.left_out == ()


CONFIG = {"report": {"reference": "cohen"},
          "certify": {"certifiers": ["cohen"], "norms": ["l2"]}}  # fmt: skip


def _board_of(tmp_path, images: dict[str, range]):
    n_images = 20
    store = new_store(tmp_path / "s.sqlite", n_images, {m: 0.25 * (i + 1) for i, m in
                      enumerate(images)}, config=CONFIG)  # fmt: skip
    labels = np.arange(n_images) % 10
    for i, (model, held) in enumerate(images.items()):
        noise = Gaussian(0.25 * (i + 1), DIM)
        store.put_noises({noise.name: noise.spec()})
        rows = count_rows(model, noise, labels, labels, np.full(n_images, 990))
        store.put_counts([r for r in rows if r.image in held])
    with store:
        certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
        report = build_report(load_outcomes(store), manifest=store.manifest(),
                              specs=store.noise_specs(),
                              settings=ReportSettings(radii={"l2": (0.1,)}))  # fmt: skip
    (board,) = report.boards
    return board


def test_rows_of_as_many_other_images_keep_the_first_model_and_say_so(tmp_path):
    """A Ray run stopped part-way leaves sets that need not nest: the set most rows hold
    is kept, on a tie the first model's, and the other is named as other images."""
    (env,) = envelope(_board_of(tmp_path, {"b": range(10, 20), "a": range(0, 10)}))
    assert [r.model for r in env.rows] == ["a"]
    assert env.left_out == (("b", 10, 10, "other"),)
    assert "(10 images, other than the 10 of the rows kept)" in left_out_note([env])


def test_the_set_most_rows_hold_is_kept(tmp_path):
    images = {"a": range(0, 12), "b": range(0, 10), "c": range(0, 10)}
    (env,) = envelope(_board_of(tmp_path, images))
    assert sorted(r.model for r in env.rows) == ["b", "c"]
    assert env.left_out == (("a", 12, 10, "more"),)
    assert "(12 images, beyond the 10 of the rows kept)" in left_out_note([env])
