"""The local executor: the tasks in this process, one after another (the default)."""

from __future__ import annotations

import time

import torch
from tqdm import tqdm

from harness.executors.base import Executor, SamplingPlan, sample_task
from harness.noise.batch import Workspace
from harness.sampler import prepare_model
from harness.store import Store


class LocalExecutor(Executor):
    name = "local"

    def run(
        self,
        plan: SamplingPlan,
        store: Store,
        *,
        device: torch.device,
        progress: bool = True,
        stop_after: int | None = None,
    ) -> bool:
        processed = 0
        for work in plan.models:
            if not work.tasks:
                continue
            x0 = work.tasks[0].x
            model = prepare_model(work.model.to(device), plan.options, x0.ndim)
            workspace = Workspace()  # buffers reused across the model's images
            bar = tqdm(work.tasks, desc=work.name, unit="img", disable=not progress, mininterval=1)
            within = WithinImage(bar, plan.n0 + plan.n) if progress else None
            for task in bar:
                if stop_after is not None and processed >= stop_after:
                    bar.close()
                    return False
                store.put_counts(sample_task(model, work.noises, task, plan, workspace, within))
                processed += 1
                if within is not None:  # before the bar moves on
                    within.next_image()
        return True


class WithinImage:
    """The share of the current image sampled, beside the bar of images, once the image has
    taken ``every`` seconds and then at most once per ``every``: an image of a large model
    on the CPU can take hours (a fast one shows nothing)."""

    def __init__(self, bar: tqdm, rows_per_image: int, every: float = 1.0) -> None:
        self.bar, self.rows_per_image, self.every = bar, rows_per_image, every
        self.done, self.shown = 0, time.monotonic()

    def next_image(self) -> None:
        self.done, self.shown = 0, time.monotonic()
        if self.bar.postfix:
            self.bar.set_postfix_str("", refresh=False)

    def __call__(self, rows: int) -> None:
        self.done += rows
        now = time.monotonic()
        if now - self.shown >= self.every and self.done < self.rows_per_image:
            self.shown = now
            self.bar.set_postfix_str(f"this image {100 * self.done / self.rows_per_image:.0f}%")
