"""An extension that adds a noise, stopped part-way, leaves the stored noise with counts
on every image and the added one on some: the gap names the added noise, so that it is
not read as the gap of the stored noise's rows ("2 of 5 images" alone once did). A model
short under every noise (a run stopped part-way) names none."""

from __future__ import annotations

from harness import runner
from harness.sampling_progress import sampling_progress
from harness.store import Store
from tests.harness.test_extending_a_store import (
    ADDED_NOISES,
    GAUSSIAN,
    LAPLACE,
    MODEL_A,
    MODEL_B,
    config,
)


def _progress(path):
    with Store(path, readonly=True) as st:
        noises = dict(st.query("SELECT noise, COUNT(DISTINCT image) FROM counts GROUP BY noise"))
        return sampling_progress(st), noises


def test_an_added_noise_short_of_images_is_named(tmp_path):
    path = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A], [GAUSSIAN]), path, progress=False)
    runner.run(config([MODEL_A], [GAUSSIAN, LAPLACE]), path, progress=False,
               stop_after=2, certify=False)  # fmt: skip
    progress, noises = _progress(path)
    (laplace,) = [name for name, images in noises.items() if images == 2]
    assert sorted(noises.values()) == [2, 5]
    assert progress.gap() == f"2 of 5 images under {laplace} (all 5 under its other noises)"


def test_a_model_short_under_every_noise_names_none(tmp_path):
    path = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A, MODEL_B], [GAUSSIAN, LAPLACE]), path, progress=False,
               stop_after=7, certify=False)  # fmt: skip
    progress, _ = _progress(path)
    assert progress.gap() == "b: 2 of 5 images", progress.gap()


def test_each_short_noise_has_its_own_count(tmp_path):
    """Two extensions stopped part-way: each noise short of the images says how many it
    has (the images holding both would understate the first)."""
    path = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A], [GAUSSIAN]), path, progress=False)
    runner.run(config([MODEL_A], [GAUSSIAN, LAPLACE]), path, progress=False,
               stop_after=2, certify=False)  # fmt: skip
    both = config([MODEL_A], [GAUSSIAN, LAPLACE, ADDED_NOISES[0]])
    runner.run(both, path, progress=False, stop_after=1, certify=False)
    progress, noises = _progress(path)
    by_family = {name.split("(")[0]: (name, held) for name, held in noises.items()}
    laplace, gg = by_family["laplace"], by_family["generalized_gaussian"]
    assert (laplace[1], gg[1]) == (2, 1)
    assert progress.gap() == (
        f"2 of 5 images under {laplace[0]}, 1 of 5 under {gg[0]} (all 5 under its other noises)"
    )


def test_noises_all_short_of_other_counts_each_have_theirs(tmp_path):
    """A run stopped part-way, then extended and stopped again: every noise is short,
    each of another count, and none is said to be complete."""
    path = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A], [GAUSSIAN]), path, progress=False, stop_after=3, certify=False)
    runner.run(config([MODEL_A], [GAUSSIAN, LAPLACE]), path, progress=False,
               stop_after=1, certify=False)  # fmt: skip
    progress, noises = _progress(path)
    by_family = {name.split("(")[0]: (name, held) for name, held in noises.items()}
    gaussian, laplace = by_family["gaussian"], by_family["laplace"]
    assert (gaussian[1], laplace[1]) == (3, 1)
    assert progress.gap() == f"3 of 5 images under {gaussian[0]}, 1 of 5 under {laplace[0]}"
