"""``sampling_progress`` counts, per smoothed model, the planned images sampled under
every noise the model has; the gap names each short model when several are sampled."""

from __future__ import annotations

from harness.noise import Gaussian, Laplace
from harness.sampling_progress import SamplingProgress, sampling_progress
from tests.reports._report_synth import DIM, add_counts, count_rows, new_store

GAUSS, LAPLACE = Gaussian(0.25, DIM), Laplace(0.25, DIM)


def test_one_short_model_of_several_is_named():
    progress = SamplingProgress(100, {"a": 100, "b": 20})
    assert progress.short == {"b": 20}
    assert progress.gap() == "b: 20 of 100 images"
    assert progress.warning().startswith("sampling incomplete: b: 20 of 100 images; ")
    assert "resumes" in progress.warning()


def test_images_outside_the_planned_index_set_are_not_counted(tmp_path):
    planned = [0, 2, 4, 6]
    store = new_store(tmp_path / "s.sqlite", 0, {"m": 0.25}, index_set=planned)
    try:
        labels = list(range(6))  # images 0..5 sampled: 0, 2, 4 of them planned
        add_counts(store, "m", GAUSS, labels, labels, [990] * 6)
        progress = sampling_progress(store)
    finally:
        store.close()
    assert progress.planned == len(planned)
    assert progress.sampled == {"m": len({0, 2, 4})}
    assert progress.gap() == "3 of 4 images"


def test_a_model_with_counts_but_not_in_the_manifest_is_counted(tmp_path):
    store = new_store(tmp_path / "s.sqlite", 4, {"m": 0.25})
    try:
        for model, n in (("m", 4), ("stray", 2)):
            labels = list(range(n))
            add_counts(store, model, GAUSS, labels, labels, [990] * n)
        progress = sampling_progress(store)
    finally:
        store.close()
    assert progress.sampled == {"m": 4, "stray": 2}
    assert progress.short == {"stray": 2}


def test_an_image_needs_every_noise_of_its_model(tmp_path):
    store = new_store(tmp_path / "s.sqlite", 4, {"m": 0.25})
    try:
        add_counts(store, "m", GAUSS, range(4), range(4), [990] * 4)
        store.put_noises({LAPLACE.name: LAPLACE.spec()})
        store.put_counts(count_rows("m", LAPLACE, range(2), range(2), [990] * 2))
        progress = sampling_progress(store)
    finally:
        store.close()
    assert progress.sampled == {"m": 2}
