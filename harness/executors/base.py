"""The work of a run as tasks, and how one task is sampled (by any executor).

A ``SamplingPlan`` holds what every task shares (seed, n0, n, batch size, the forward
pass's options) and, per model, the model, its noises and the images still missing from
the store (``ImageTask``: the input itself travels with the task, so a worker needs no
dataset). ``sample_task`` turns one task into its store rows.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from harness.noise import Noise
from harness.noise.batch import Workspace
from harness.sampler import SamplerOptions, auto_batch_size, certify_counts
from harness.store import CountRow, Store


@dataclass(frozen=True)
class ImageTask:
    """One (model, image): the input, its label, and the noises it still lacks."""

    model: str
    image: int
    label: int
    x: torch.Tensor
    noises: tuple[str, ...]


@dataclass
class ModelWork:
    """A model of the run, its noises (by name) and its tasks."""

    name: str
    model: torch.nn.Module
    noises: dict[str, Noise]
    tasks: list[ImageTask] = field(default_factory=list)


@dataclass
class SamplingPlan:
    """What the tasks of a run share, and the work per model."""

    seed: int
    n0: int
    n: int
    batch_size: int | None
    options: SamplerOptions
    models: list[ModelWork] = field(default_factory=list)
    #: The sampling processes keep freed host memory (``harness.host_memory``).
    keep_freed_memory: bool = False
    #: Without ``batch_size``: the one each model's tasks use in this process, chosen at
    #: its first task (``auto_batch_size``), so that a GPU's free memory, which changes as
    #: a run goes, does not change the batch from image to image.
    chosen_batch: dict[str, int] = field(default_factory=dict)

    @property
    def tasks(self) -> int:
        return sum(len(m.tasks) for m in self.models)


def sample_task(
    model: torch.nn.Module,
    noises: dict[str, Noise],
    task: ImageTask,
    plan: SamplingPlan,
    workspace: Workspace | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> list[CountRow]:
    """Selection and estimation counts of one image under its missing noises, as store
    rows; ``seconds`` is the sampling time per noise. ``on_rows`` is told the rows done
    (``n0 + n`` in all) as the sampler goes."""
    missing = [noises[name] for name in task.noises]
    batch_size = plan.batch_size
    if batch_size is None:
        if task.model not in plan.chosen_batch:
            plan.chosen_batch[task.model] = auto_batch_size(
                model, task.x, plan.n, plan.options, list(noises.values())
            )  # every noise of the model: the first task may sample only some
        batch_size = plan.chosen_batch[task.model]
    start = time.perf_counter()
    try:
        counts = certify_counts(
            model,
            task.x,
            missing,
            plan.n0,
            plan.n,
            seed=plan.seed,
            index=task.image,
            batch_size=batch_size,
            options=plan.options,
            workspace=workspace,
            on_rows=on_rows,
        )
    except ValueError as err:  # bad input
        raise ValueError(f"model {task.model}, image {task.image}: {err}") from err
    except RuntimeError as err:  # out of memory, a device error, ...
        raise RuntimeError(f"model {task.model}, image {task.image}: {err}") from err
    seconds = (time.perf_counter() - start) / len(missing)
    return [
        CountRow(
            task.model,
            noise.name,
            task.image,
            task.label,
            counts.selection[j],
            counts.estimation[j],
            seconds,
        )
        for j, noise in enumerate(missing)
    ]


class Executor(ABC):
    """Runs the tasks of a plan and writes their rows to the store (one transaction per
    task, so that a stopped run keeps every finished image)."""

    name = "executor"

    def device(self, requested: str | None) -> torch.device:
        """The device type the tasks will run on (part of the run's identity)."""
        from harness.draws import resolve_device

        return resolve_device(requested)

    def local_device(self, device: torch.device) -> torch.device:
        """Where this process does its own work (the noises' checks, the deterministic
        certificates) when the tasks run on ``device``: the same device here."""
        return device

    def close(self) -> None:
        """Release what the executor started (a Ray cluster); nothing here."""
        return None

    @abstractmethod
    def run(
        self,
        plan: SamplingPlan,
        store: Store,
        *,
        device: torch.device,
        progress: bool = True,
        stop_after: int | None = None,
    ) -> bool:
        """Sample every task; ``True`` when all are done, ``False`` when ``stop_after``
        stopped it first (at most that many tasks processed)."""
