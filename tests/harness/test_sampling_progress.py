"""The gap a store's sampling leaves, as warnings state it: per model where several are
sampled (it once gave the least of them as if it were the store's, "0 of 200 images"
beside a model sampled on 114)."""

from harness.sampling_progress import SamplingProgress


def test_one_model_gives_its_images():
    assert SamplingProgress(10, {"m": 4}).gap() == "4 of 10 images"
    assert SamplingProgress(10, {"m": 10}).gap() is None
    assert SamplingProgress(None, {"m": 4}).gap() is None


def test_several_models_give_each_model_short_of_the_plan():
    progress = SamplingProgress(200, {"a": 114, "b": 0, "c": 200})
    assert progress.gap() == "a: 114 of 200 images, b: 0 of 200"
    assert progress.summary() == "sampling incomplete: a: 114 of 200 images, b: 0 of 200"
