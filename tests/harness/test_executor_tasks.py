"""A task's store rows: its draws are addressed by the image's own index (not by its
label or its position), and ``seconds`` is the sampling time per noise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.executors import base
from harness.executors.base import ImageTask, SamplingPlan, sample_task
from harness.sampler import CertifyCounts, SamplerOptions


class _Noise:
    def __init__(self, name):
        self.name = name


def test_a_tasks_draws_are_addressed_by_its_image_and_timed_per_noise(monkeypatch):
    seen = {}

    def fake_counts(model, x, noises, n0, n, *, seed, index, **kwargs):
        seen.update(seed=seed, index=index, noises=[nz.name for nz in noises])
        k = len(noises)  # ten classes, one row a noise
        return CertifyCounts(np.arange(k * 10).reshape(k, 10), np.arange(k * 10).reshape(k, 10) + 1)

    clock = iter([100.0, 106.0])  # six seconds for the whole task
    monkeypatch.setattr(base, "certify_counts", fake_counts)
    monkeypatch.setattr(base.time, "perf_counter", lambda: next(clock))
    noises = {name: _Noise(name) for name in ("a", "b", "c")}
    # label and image differ, so that addressing the draws by the label shows
    task = ImageTask("m", image=17, label=4, x=torch.zeros(3), noises=("a", "b", "c"))
    plan = SamplingPlan(seed=9, n0=10, n=20, batch_size=None, options=SamplerOptions())
    rows = sample_task(torch.nn.Identity(), noises, task, plan)
    assert seen == {"seed": 9, "index": 17, "noises": ["a", "b", "c"]}
    assert [(r.model, r.noise, r.image, r.label) for r in rows] == [
        ("m", "a", 17, 4),
        ("m", "b", 17, 4),
        ("m", "c", 17, 4),
    ]
    assert [r.seconds for r in rows] == [2.0, 2.0, 2.0]


def _tiny():
    from harness.config import parse

    return parse(
        {
            "run": {"name": "tiny", "dataset": "digits", "arch": "mlp", "train_sigmas": [0.25],
                    "seed": 3, "n_test": 4, "n0": 10, "n": 100},
            "noises": [{"family": "gaussian"}],
            "certify": {"certifiers": ["cohen"], "alpha": [0.001]},
        }
    )  # fmt: skip


@pytest.mark.parametrize("error", [ValueError, RuntimeError])
def test_a_failing_image_is_named_and_the_images_before_it_are_kept(tmp_path, monkeypatch, error):
    from harness import runner
    from harness.store import Store

    real = base.certify_counts
    calls = []

    def failing(*args, index, **kwargs):
        calls.append(index)
        if len(calls) == 3:
            raise error("the device said no")
        return real(*args, index=index, **kwargs)

    monkeypatch.setattr(base, "certify_counts", failing)
    with pytest.raises(error) as info:
        runner.run(_tiny(), tmp_path / "s.sqlite", progress=False, certify=False)
    message = str(info.value)
    assert f"image {calls[-1]}: the device said no" in message and "model " in message
    with Store(tmp_path / "s.sqlite", readonly=True) as st:
        assert {i for _, _, i in st.done_keys()} == set(calls[:2])


def test_the_share_of_an_image_shown_is_of_all_its_rows(tmp_path, monkeypatch):
    """The local bar's share of the image under way divides by the rows the image really
    samples (selection and estimation draws): what it is told over an image adds up to it."""
    from harness import runner
    from harness.executors import local

    made = []

    class Recording(local.WithinImage):
        def __init__(self, bar, rows_per_image, every=1.0):
            super().__init__(bar, rows_per_image, every=0.0)
            self.told = []
            made.append(self)

        def __call__(self, rows):
            self.told.append(rows)
            super().__call__(rows)

        def next_image(self):
            self.told.append(None)
            super().next_image()

    monkeypatch.setattr(local, "WithinImage", Recording)
    runner.run(_tiny(), tmp_path / "s.sqlite", progress=True, certify=False)
    (within,) = made
    per_image, rows = [], 0
    for told in within.told:
        if told is None:
            per_image.append(rows)
            rows = 0
        else:
            rows += told
    assert len(per_image) == 4
    assert per_image == [within.rows_per_image] * 4


def test_a_plans_task_count_is_its_images_over_all_models():
    """The Ray bar's total: every (model, image) task, not the models."""
    from harness.executors.base import ModelWork

    def work(name, images):
        tasks = [ImageTask(name, i, 0, torch.zeros(1), ("g",)) for i in range(images)]
        return ModelWork(name, torch.nn.Identity(), {}, tasks)

    plan = SamplingPlan(0, 1, 1, None, SamplerOptions(), [work("a", 2), work("b", 3), work("c", 0)])
    assert plan.tasks == 5


def test_the_share_of_an_image_is_never_shown_complete():
    """The image's share shows while it is under way; its last rows do not show 100%
    (the bar of images moves on instead)."""
    from tqdm import tqdm

    from harness.executors.local import WithinImage

    with tqdm(total=1, disable=True) as bar:
        within = WithinImage(bar, 100, every=0.0)
        within(40)
        assert bar.postfix == "this image 40%"
        within(60)
        assert bar.postfix == "this image 40%"


@pytest.mark.parametrize("executor", ["local", "ray"])
def test_stopping_after_no_image_samples_none(tmp_path, executor):
    """``stop_after=0`` processes no task on either executor (Ray sampled one: it submits
    before it counts) and says the run is not done."""
    from harness.executors import make_executor
    from harness.executors.base import ModelWork
    from harness.store import Store

    tasks = [ImageTask("a", i, 0, torch.zeros(4), ("g",)) for i in range(2)]
    work = ModelWork("a", torch.nn.Linear(4, 2), {}, tasks)
    plan = SamplingPlan(0, 1, 1, None, SamplerOptions(), [work])
    with Store(tmp_path / "s.sqlite") as store:
        run = make_executor(executor).run
        assert run(plan, store, device=torch.device("cpu"), progress=False, stop_after=0) is False
        assert store.done_keys() == set()


def test_without_a_batch_size_each_model_keeps_the_one_chosen_at_its_first_task(monkeypatch):
    """``auto_batch_size`` on a GPU reads the free memory, which changes as a run goes:
    asked at every image it could change the batch, and with it the model's rounding,
    from image to image. It is asked once per model; every task of it uses that answer."""
    chosen = iter([500, 250, 125, 100])
    asked, used, budgeted = [], [], []

    def fake_auto(model, x, n, options=None, noises=()):
        asked.append(model)
        budgeted.append(sorted(noise.name for noise in noises))
        return next(chosen)

    def fake_counts(model, x, noises, n0, n, *, batch_size, **kwargs):
        used.append((model, batch_size))
        return CertifyCounts(np.zeros((1, 10), np.int64), np.zeros((1, 10), np.int64))

    monkeypatch.setattr(base, "auto_batch_size", fake_auto)
    monkeypatch.setattr(base, "certify_counts", fake_counts)
    noises = {"a": _Noise("a"), "b": _Noise("b")}
    first, second = torch.nn.Identity(), torch.nn.Identity()
    plan = SamplingPlan(seed=0, n0=10, n=1000, batch_size=None, options=SamplerOptions())
    for image in range(3):
        for name, model in (("m1", first), ("m2", second)):
            sample_task(model, noises, ImageTask(name, image, 0, torch.zeros(3), ("a",)), plan)
    assert asked == [first, second]
    # the memory of every noise of the model, though its first task samples one of them
    assert budgeted == [["a", "b"], ["a", "b"]]
    assert used == [(first, 500), (second, 250)] * 3
    given = SamplingPlan(seed=0, n0=10, n=1000, batch_size=64, options=SamplerOptions())
    sample_task(first, noises, ImageTask("m1", 0, 0, torch.zeros(3), ("a",)), given)
    assert len(asked) == 2 and used[-1] == (first, 64)  # a batch size given is kept
