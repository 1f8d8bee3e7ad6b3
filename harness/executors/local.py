"""The local executor: the tasks in this process, one after another (the default)."""

from __future__ import annotations

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
            for task in bar:
                if stop_after is not None and processed >= stop_after:
                    bar.close()
                    return False
                store.put_counts(sample_task(model, work.noises, task, plan, workspace))
                processed += 1
        return True
