"""The Ray executor: (model, image) tasks sharded over Ray actors.

``smoothbench run CONFIG --executor ray [--address ADDRESS]``. One actor per GPU of the
cluster (``num_gpus=1``), or, where the cluster has none, one single-threaded CPU actor
per CPU (``--workers`` sets the number). Each actor receives the models (their weights,
serialized once into Ray's object store) and the noises' specs once, then samples the
tasks it is sent; every task carries its input, so actors need no dataset and no cache.
This process keeps at most two tasks in flight per actor, writes each result to the
store as it arrives (the single writer; one transaction per image), and shows progress.
A stopped run resumes like a local one: the store skips the images it holds, and the
draws do not depend on which actor, batch or order produced them, so the store of a Ray
run equals the local run's.

Without ``--address`` a local Ray cluster is started (or the one this process already
started is used); ``--address auto`` joins the cluster of this node, and
``ray://host:10001`` a remote one (see the README for multi-GPU and multi-node runs).
"""

from __future__ import annotations

import io
import os
from collections import deque
from typing import Any

import torch
from tqdm import tqdm

from harness.executors.base import Executor, ImageTask, SamplingPlan, sample_task
from harness.host_memory import keep_freed_memory
from harness.noise import from_spec
from harness.noise.batch import Workspace
from harness.sampler import prepare_model
from harness.store import Store
from smoothbench import plugins
from smoothbench.plugins import load_plugins

_IN_FLIGHT = 2  # tasks queued per actor, so that an actor never waits for the driver


def _import_ray():
    try:
        import ray
    except ImportError as err:  # pragma: no cover - the test environment installs Ray
        raise ValueError(
            "the ray executor needs Ray: pip install 'smoothbench[ray]' (or 'ray[default]')"
        ) from err
    return ray


def serialize_model(model: torch.nn.Module) -> tuple[str, bytes]:
    """``("torchscript" | "pickle", bytes)``: a TorchScript module as such, any other
    module pickled whole (its class must be importable where it is loaded)."""
    buf = io.BytesIO()
    if isinstance(model, torch.jit.ScriptModule):
        torch.jit.save(model, buf)
        return "torchscript", buf.getvalue()
    torch.save(model, buf)
    return "pickle", buf.getvalue()


def deserialize_model(kind: str, blob: bytes) -> torch.nn.Module:
    buf = io.BytesIO(blob)
    if kind == "torchscript":
        return torch.jit.load(buf, map_location="cpu")
    # bytes this run serialized itself (serialize_model), not a file from elsewhere
    return torch.load(buf, map_location="cpu", weights_only=False)


class SamplingWorker:
    """The state of one actor: the run's models and noises on its device."""

    def __init__(self, setup: dict[str, Any], device_type: str, threads: int) -> None:
        torch.set_num_threads(threads)
        load_plugins(setup["plugins"])  # the driver's, by hand: before any noise is built
        if setup["keep_freed_memory"]:
            keep_freed_memory()
        self.device = torch.device("cuda" if device_type == "cuda" else "cpu")
        self.plan = SamplingPlan(
            setup["seed"], setup["n0"], setup["n"], setup["batch_size"], setup["options"]
        )
        self.models: dict[str, torch.nn.Module] = {}
        self.noises: dict[str, dict[str, Any]] = {}
        for name, (kind, blob, ndim) in setup["models"].items():
            model = deserialize_model(kind, blob).to(self.device)
            self.models[name] = prepare_model(model, self.plan.options, ndim)
            self.noises[name] = {nm: from_spec(spec) for nm, spec in setup["noises"][name].items()}
        self.workspaces: dict[str, Workspace] = {}

    def sample(self, task: ImageTask) -> list:
        workspace = self.workspaces.setdefault(task.model, Workspace())
        return sample_task(
            self.models[task.model], self.noises[task.model], task, self.plan, workspace
        )

    def where(self) -> str:
        return f"{os.uname().nodename}:{os.getpid()}:{self.device}"


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        if workers is not None and (isinstance(workers, bool) or workers < 1):
            raise ValueError(f"workers must be a positive int, got {workers!r}")
        self.address = address
        self.workers = workers
        self._started = False

    def _connect(self):
        ray = _import_ray()
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
            self._started = True
        return ray

    def device(self, requested: str | None) -> torch.device:
        """CUDA where the cluster has GPUs (and the run does not ask for the CPU)."""
        ray = self._connect()
        gpus = int(ray.cluster_resources().get("GPU", 0))
        if requested is not None and requested != "auto":
            from harness.draws import parse_device

            dev = parse_device(requested)
            if dev.type == "cuda" and gpus == 0:
                raise ValueError(f"device {requested!r} was asked for but the cluster has no GPU")
            return torch.device(dev.type)
        return torch.device("cuda" if gpus else "cpu")

    def _actors(self, ray, setup_ref, device: torch.device) -> list:
        resources = ray.cluster_resources()
        if device.type == "cuda":
            count = self.workers or int(resources.get("GPU", 0))
            options = {"num_gpus": 1, "num_cpus": 1}
        else:
            count = self.workers or max(1, int(resources.get("CPU", 1)))
            options = {"num_cpus": 1}
        actor = ray.remote(SamplingWorker)
        return [actor.options(**options).remote(setup_ref, device.type, 1) for _ in range(count)]

    def run(
        self,
        plan: SamplingPlan,
        store: Store,
        *,
        device: torch.device,
        progress: bool = True,
        stop_after: int | None = None,
    ) -> bool:
        tasks = deque(task for work in plan.models for task in work.tasks)
        if not tasks:
            return True
        ray = self._connect()
        setup = {
            "seed": plan.seed,
            "n0": plan.n0,
            "n": plan.n,
            "batch_size": plan.batch_size,
            "options": plan.options,
            "keep_freed_memory": plan.keep_freed_memory,
            "plugins": plugins.loaded(),
            "models": {
                w.name: (*serialize_model(w.model.cpu()), w.tasks[0].x.ndim if w.tasks else 3)
                for w in plan.models
            },
            "noises": {w.name: {nm: nz.spec() for nm, nz in w.noises.items()} for w in plan.models},
        }
        actors = self._actors(ray, ray.put(setup), device)
        in_flight: dict[Any, int] = {}

        def submit(which: int) -> None:
            if tasks:
                in_flight[actors[which].sample.remote(tasks.popleft())] = which

        for which in range(len(actors)):
            for _ in range(_IN_FLIGHT):
                submit(which)
        processed = 0
        bar = tqdm(total=plan.tasks, desc=f"ray x{len(actors)}", unit="img", disable=not progress)
        try:
            while in_flight:
                (ref,), _ = ray.wait(list(in_flight), num_returns=1)
                which = in_flight.pop(ref)
                try:
                    rows = ray.get(ref)
                except ray.exceptions.RayTaskError as err:
                    raise ValueError(f"a Ray worker failed: {err.cause!r}") from err
                except ray.exceptions.RayError as err:  # an actor or a node died
                    raise ValueError(
                        f"a Ray worker was lost ({type(err).__name__}); the {processed} "
                        "image(s) finished in this run are in the store: run the same "
                        "command again to resume"
                    ) from err
                store.put_counts(rows)
                processed += 1
                bar.update(1)
                if stop_after is not None and processed >= stop_after:
                    return False
                submit(which)
            return True
        finally:
            bar.close()
            for a in actors:
                ray.kill(a)

    def close(self) -> None:
        """Shut down the Ray cluster this executor started (not one it joined)."""
        if self._started:
            _import_ray().shutdown()
            self._started = False
