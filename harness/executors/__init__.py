"""Executors: where the sampling work of a run, one task per (model, image), is done.

``local`` (the default) runs the tasks in this process, one after another; ``ray``
shards them over Ray actors (one per GPU, or CPU actors where the cluster has no GPU)
and streams the results back to this process, which stays the store's single writer.
Both produce the same store: the draws are addressed by (seed, image, stream, chunk), not
by who computes them.
"""

from __future__ import annotations

from harness.executors.base import Executor, ImageTask, ModelWork, SamplingPlan, sample_task
from harness.executors.local import LocalExecutor
from smoothbench.names import unknown_name

EXECUTORS = ("local", "ray")


def make_executor(
    name: str = "local", *, address: str | None = None, workers: int | None = None
) -> Executor:
    """The executor called ``name`` (``EXECUTORS``)."""
    if name == "local":
        if address is not None:
            raise ValueError("--address is for the ray executor")
        return LocalExecutor()
    if name == "ray":
        from harness.executors.ray_executor import RayExecutor

        return RayExecutor(address=address, workers=workers)
    raise ValueError(unknown_name("executor", name, EXECUTORS))


__all__ = [
    "EXECUTORS",
    "Executor",
    "ImageTask",
    "LocalExecutor",
    "ModelWork",
    "SamplingPlan",
    "make_executor",
    "sample_task",
]
