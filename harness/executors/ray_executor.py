"""The Ray executor: (model, image) tasks sharded over Ray actors.

``smoothbench run CONFIG --executor ray [--address ADDRESS]``. One actor per GPU of the
cluster (``num_gpus=1``), or, where the cluster has none, one single-threaded CPU actor
per CPU (``--workers`` sets the number). Each actor receives the models (their weights,
serialized once into Ray's object store) and the noises' specs once, then samples the
tasks it is sent; every task carries its input, so actors need no dataset and no cache.
This process keeps at most two tasks in flight per actor, writes each result to the
store as it arrives (the single writer; one transaction per image), and shows progress:
images done, and between them the share of the images under way (the actors report the
rows they sample to a small counting actor about once a second).
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
import signal
import socket
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from tqdm import tqdm

from harness.draws import philox_grid
from harness.executors.base import Executor, ImageTask, SamplingPlan, sample_task
from harness.host_memory import keep_freed_memory
from harness.noise import from_spec
from harness.noise.batch import Workspace
from harness.noise.registry import family_source
from harness.noise.ufuncs import math_path
from harness.provenance import add_to_session, device_name, fp32_precision
from harness.sampler import prepare_model
from harness.store import Store
from smoothbench import plugins
from smoothbench.plugins import load_plugins

_IN_FLIGHT = 2  # tasks queued per actor, so that an actor never waits for the driver
#: Seconds to wait for the cluster to free the resources of the actors a run asks for.
FREE_WAIT_S = 20.0
#: Seconds between the workers' reports of rows sampled, and between the bar's updates.
PROGRESS_EVERY_S = 1.0


def _import_ray():
    # Ray's core worker installs a native handler that turns SIGTERM into a crash dump
    # (exit 134) in the driver, also while a run starts: this process goes without it (the
    # variable is read when Ray is first imported, and unset again, so that the processes
    # Ray starts keep theirs; a process that imported Ray before keeps it too)
    unset = "RAY_DISABLE_FAILURE_SIGNAL_HANDLER" not in os.environ
    if unset:
        os.environ["RAY_DISABLE_FAILURE_SIGNAL_HANDLER"] = "1"
    try:
        import ray
    except ImportError as err:  # pragma: no cover - the test environment installs Ray
        raise ValueError(
            "the ray executor needs Ray: python3 -m pip install '.[ray]' in a checkout of "
            "smoothbench (or pip install 'ray[default]')"
        ) from err
    finally:
        if unset:
            os.environ.pop("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", None)
    return ray


@contextmanager
def _ray_keeps_our_sigterm_handler(ray: Any) -> Iterator[None]:
    """``ray.init`` sets a SIGTERM handler of its own (``sys.exit``) before it connects:
    inside the block it does not, so that a SIGTERM while Ray starts is deferred like
    Ctrl-C (``_signals_deferred``) and the run stops cleanly (exit 130)."""
    utils = getattr(getattr(ray, "_private", None), "utils", None)
    original = getattr(utils, "set_sigterm_handler", None)
    if original is None:
        yield
        return
    utils.set_sigterm_handler = lambda handler: None
    try:
        yield
    finally:
        utils.set_sigterm_handler = original


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


def actor_device(device_type: str, gpu_ids: list[int | str], visible: str | None) -> torch.device:
    """The device of an actor given ``gpu_ids`` (``ray.get_gpu_ids()``) and ``visible``
    (its ``CUDA_VISIBLE_DEVICES``). Ray names a GPU by its entry in the node's
    ``CUDA_VISIBLE_DEVICES`` (by its index where that is unset) and leaves each actor only
    its own visible, so the actor's is ``cuda:0``; with
    ``RAY_EXPERIMENTAL_NOSET_CUDA_VISIBLE_DEVICES`` set it leaves them all, and the actor's
    is the one its id names: without this every actor would sample on the first GPU."""
    if device_type != "cuda":
        return torch.device("cpu")
    if not gpu_ids:  # Ray gave none (an actor started by hand): the current one
        return torch.device("cuda", 0)
    given = str(gpu_ids[0])
    listed = [] if visible in (None, "", "NoDevFiles") else visible.split(",")
    if not listed:
        return torch.device("cuda", int(given))
    if given not in listed:
        raise RuntimeError(
            f"Ray gave this worker GPU {given}, which CUDA_VISIBLE_DEVICES={visible} hides"
        )
    return torch.device("cuda", listed.index(given))


def this_actors_device(device_type: str) -> torch.device:
    """``actor_device`` of the actor this runs in, made the current CUDA device (what
    asks for ``cuda`` alone, such as its free memory, then means it)."""
    if device_type != "cuda":
        return torch.device("cpu")
    device = actor_device(
        device_type, _import_ray().get_gpu_ids(), os.environ.get("CUDA_VISIBLE_DEVICES")
    )
    torch.cuda.set_device(device)
    return device


class SamplingWorker:
    """The state of one actor: the run's models and noises on its device."""

    def __init__(self, setup: dict[str, Any], device_type: str, threads: int) -> None:
        torch.set_num_threads(threads)
        load_plugins(setup["plugins"])  # the driver's, by hand: before any noise is built
        for family, source in setup["noise_sources"].items():
            if (here := family_source(family)) != source:  # another file on this node
                raise ValueError(
                    f"the Ray worker on {socket.gethostname()} reads the noise family "
                    f"{family!r} from another source than the driver (driver {source[:12]}, "
                    f"worker {str(here)[:12]}): its counts could be of another law; give "
                    "every node the driver's plugin files"
                )
        if setup["keep_freed_memory"]:
            keep_freed_memory()
        self.device = this_actors_device(device_type)
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

    def sample(self, task: ImageTask, progress: Any = None) -> tuple[list, int | None]:
        """The task's count rows, and the batch its model takes on this actor where the
        run names none (``auto_batch_size``; else None); ``progress``, when given, a
        ``RowsSampled`` actor told the rows sampled about once a second."""
        workspace = self.workspaces.setdefault(task.model, Workspace())
        pending = [0, time.monotonic()]

        def on_rows(rows: int) -> None:
            pending[0] += rows
            if time.monotonic() - pending[1] >= PROGRESS_EVERY_S:
                progress.add.remote(pending[0])
                pending[:] = [0, time.monotonic()]

        rows = sample_task(
            self.models[task.model],
            self.noises[task.model],
            task,
            self.plan,
            workspace,
            on_rows if progress is not None else None,
        )
        if progress is not None and pending[0]:
            progress.add.remote(pending[0])
        return rows, self.plan.chosen_batch.get(task.model)

    def where(self) -> str:
        """The actor's host, process, device and elementwise math path (the driver's
        ``provenance`` names its own, not the actors'), for the run's record of its
        session."""
        grid = philox_grid(self.device)
        return (
            f"{os.uname().nodename} (pid {os.getpid()}): {device_name(self.device)}, "
            f"elementwise math {math_path(self.device)}"
            + (f", random grid {grid}, float32 {fp32_precision()}" if grid is not None else "")
        )


@contextmanager
def _signals_deferred() -> Iterator[list[int]]:
    """Ctrl-C and SIGTERM noted, not raised, inside the block (the list it yields is
    non-empty when one came); the handlers are restored after it."""
    got: list[int] = []
    try:
        old = {
            s: signal.signal(s, lambda signum, frame: got.append(signum))
            for s in (signal.SIGINT, signal.SIGTERM)
        }
    except ValueError:  # not the main thread
        yield got
        return
    try:
        yield got
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def check_reachable(address: str | None, timeout: float = 5.0) -> None:
    """Refuse a ``HOST:PORT`` address where nothing answers within ``timeout`` seconds
    (Ray itself retries such an address for minutes, saying nothing a user can act on).
    ``None``, ``auto`` and ``ray://`` addresses are left to Ray, which fails fast on them."""
    if address is None or address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if host.startswith("[") and host.endswith("]"):  # an IPv6 address: [ADDRESS]:PORT
        host = host[1:-1]
    elif ":" in host:  # unbracketed IPv6 ('fe80::1' would read as host 'fe80:', port 1)
        host = ""
    digits = port.isascii() and port.isdigit()  # not '²' or other Unicode digits
    if not host or host != host.strip() or not digits or not 0 < int(port) < 65536:
        raise ValueError(
            f"--address {address!r}: give HOST:PORT of a Ray head node (a port from 1 to "
            "65535; an IPv6 address in brackets, [ADDRESS]:PORT), auto, or ray://HOST:10001"
        )
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        raise ValueError(
            f"no Ray cluster answers at {address} ({err}): start one there with "
            f"'ray start --head --port {port}', or check --address"
        ) from None


def _first_failure_line(error_msg: str) -> str:
    """The exception line that ends Ray's message about a failed actor (its last line)."""
    lines = [line.strip() for line in error_msg.strip().splitlines() if line.strip()]
    return lines[-1] if lines else error_msg


class RowsSampled:
    """An actor that adds up the rows (draws of an image) the workers have sampled, so
    that the driver's bar moves within images that take minutes each."""

    def __init__(self) -> None:
        self.rows = 0

    def add(self, rows: int) -> None:
        self.rows += rows

    def read(self) -> int:
        return self.rows


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
            check_reachable(self.address)
            handler = signal.getsignal(signal.SIGTERM)
            with _signals_deferred() as stopped, _ray_keeps_our_sigterm_handler(ray):
                # deferred: a start cut half-way leaks Ray's agents
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
                self._started = True
            if stopped:
                self.close()
                raise KeyboardInterrupt
            # Ray installs its own SIGTERM handler, which aborts this process; the command
            # line's ends a run cleanly, as Ctrl-C does
            if handler is not None:
                try:
                    signal.signal(signal.SIGTERM, handler)
                except ValueError:  # not the main thread: signals are not ours to set
                    pass
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

    def local_device(self, device: torch.device) -> torch.device:
        """``device`` where this machine has one, else the CPU: the driver of a GPU
        cluster needs no GPU of its own."""
        if device.type == "cuda" and not torch.cuda.is_available():
            return torch.device("cpu")
        return device

    def _actors(self, ray, setup_ref, device: torch.device) -> list:
        """One actor per GPU of the cluster (with a CPU each), or per CPU, or
        ``--workers`` of them, once the cluster has the resources free (those of a run
        just ended are freed within seconds). An actor the cluster cannot place would
        wait forever: after ``FREE_WAIT_S`` seconds without them, an error says what
        fits."""
        need = {"GPU": 1, "CPU": 1} if device.type == "cuda" else {"CPU": 1}

        def placeable(resources: dict[str, float]) -> int:
            return min(int(resources.get(key, 0) // amount) for key, amount in need.items())

        count = self.workers or placeable(ray.cluster_resources())
        deadline = time.monotonic() + FREE_WAIT_S
        while (fits := placeable(ray.available_resources())) < count or count < 1:
            if time.monotonic() > deadline:
                free, total = ray.available_resources(), ray.cluster_resources()
                have = ", ".join(
                    f"{free.get(key, 0):g} of {total.get(key, 0):g} {key}s free" for key in need
                )
                wanted = " and ".join(f"{count * a} {k}s" for k, a in need.items())
                advice = f": use --workers {fits} or fewer" if fits else ""
                raise ValueError(
                    f"{count} Ray worker(s) need {wanted}; the cluster has {have}{advice}"
                )
            time.sleep(0.2)
        options = {"num_gpus": 1, "num_cpus": 1} if device.type == "cuda" else {"num_cpus": 1}
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
        if stop_after is not None and stop_after < 1:  # as the local executor: no image
            return False
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
            "noise_sources": {
                family: source
                for family in sorted({nz.family for w in plan.models for nz in w.noises.values()})
                if (source := family_source(family)) is not None
            },
        }
        actors = self._actors(ray, ray.put(setup), device)
        counter = ray.remote(RowsSampled).options(num_cpus=0).remote() if progress else None
        where = [a.where.remote() for a in actors]
        in_flight: dict[Any, tuple[int, ImageTask]] = {}

        def submit(which: int) -> None:
            if tasks:
                task = tasks.popleft()
                in_flight[actors[which].sample.remote(task, counter)] = (which, task)

        for which in range(len(actors)):
            for _ in range(_IN_FLIGHT):
                submit(which)
        processed = 0
        chosen: dict[str, set[int]] = {}  # the batch each model took, on every actor
        bar = tqdm(total=plan.tasks, desc=f"ray x{len(actors)}", unit="img", disable=not progress)
        try:
            while in_flight:
                timeout = PROGRESS_EVERY_S if counter is not None else None
                ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=timeout)
                if not ready:  # images under way: how far, in images
                    assert counter is not None
                    started = ray.get(counter.read.remote()) / (plan.n0 + plan.n) - processed
                    bar.set_postfix_str(f"+{max(started, 0.0):.1f} under way")
                    continue
                (ref,) = ready
                which, task = in_flight.pop(ref)
                kept = f"the {processed} image(s) finished in this run are in the store"
                try:
                    rows, batch = ray.get(ref)
                except ray.exceptions.RayTaskError as err:
                    raise _task_failure(err.cause, task, kept) from err
                except ray.exceptions.RayActorError as err:
                    # it never started (Ray 2.x says so): a rerun would fail alike
                    if getattr(err, "actor_init_failed", False):
                        raise RuntimeError(
                            "a Ray worker could not start: "
                            f"{_first_failure_line(getattr(err, 'error_msg', str(err)))} "
                            "(a plugin, model class or device its node lacks?); --debug "
                            "shows Ray's message"
                        ) from err
                    raise _lost(err, kept) from err
                except ray.exceptions.RayError as err:  # a node or its object store died
                    raise _lost(err, kept) from err
                store.put_counts(rows)
                if batch is not None:
                    chosen.setdefault(task.model, set()).add(batch)
                processed += 1
                if counter is not None:  # the next poll says what is under way now
                    bar.set_postfix_str("", refresh=False)
                bar.update(1)
                if stop_after is not None and processed >= stop_after:
                    return False
                submit(which)
            return True
        finally:
            bar.close()
            _record_workers(ray, store, where, chosen)
            for a in actors:
                ray.kill(a)
            if counter is not None:
                ray.kill(counter)

    def close(self) -> None:
        """Shut down the Ray cluster this executor started (not one it joined)."""
        if self._started:
            _import_ray().shutdown()
            self._started = False


def _record_workers(ray, store: Store, where: list, chosen: dict[str, set[int]]) -> None:
    """Add to this session's record in the manifest the hosts and devices of the actors
    that answer within seconds (its ``provenance`` names the driver's machine, which
    need not be where the draws ran), and the batch each model took where the run names
    none (``batch_chosen``: one size, or the sizes, ascending, where actors on other GPUs
    chose others), however the run ended; a record only, so nothing here fails it."""
    workers = []
    try:
        ready, _ = ray.wait(where, num_returns=len(where), timeout=10)
        for ref in ready:  # a lost actor's answer is an error: the others are kept
            try:
                workers.append(ray.get(ref))
            except ray.exceptions.RayError:
                pass
    except ray.exceptions.RayError:  # pragma: no cover - a record only
        pass
    took = batches_taken(chosen)
    add_to_session(store, {"workers": workers, **({"batch_chosen": took} if took else {})})


def batches_taken(chosen: dict[str, set[int]]) -> dict[str, int | list[int]]:
    """Each model's batch over the actors that sampled it: the size where they agree,
    the sizes in ascending order where they do not."""
    return {m: next(iter(b)) if len(b) == 1 else sorted(b) for m, b in chosen.items()}


def _task_failure(cause: BaseException, task: ImageTask, kept: str) -> Exception:
    """A task's error, naming its model and image: a ``ValueError`` (bad input) stays one,
    anything else (out of memory, a driver error) becomes a ``RuntimeError``."""
    where = f"model {task.model}, image {task.image}: "
    text = str(cause)
    if not text.startswith(where):
        text = f"{where}{type(cause).__name__}: {text}"
    kind = ValueError if isinstance(cause, ValueError) else RuntimeError
    return kind(f"a Ray worker failed on {text}; {kept} (--debug shows the worker's traceback)")


def _lost(err: Exception, kept: str) -> ValueError:
    return ValueError(
        f"a Ray worker was lost ({type(err).__name__}); {kept}: run the same command "
        "again to resume"
    )
