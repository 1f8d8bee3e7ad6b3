"""Executors: a Ray run (a local cluster of two CPUs, as in CI) writes the same store as
a local run, row by row, and a stopped Ray run resumes to it."""

from __future__ import annotations

import signal
import socket
import textwrap

import pytest
import ray
import torch

from harness import runner
from harness.config import parse
from harness.executors import make_executor, ray_executor
from harness.executors.ray_executor import RayExecutor, check_reachable
from harness.noise.ufuncs import math_path
from harness.store import Store
from tests.harness._configs import two_models
from tests.smoothbench.test_plugins import PLUGIN


def tiny():
    return parse(
        {
            "run": {
                "name": "tiny-ray", "dataset": "digits", "arch": "mlp", "train_sigmas": [0.25],
                "seed": 5, "n_test": 6, "n0": 20, "n": 500, "batch_size": 200,
            },
            "noises": [
                {"family": "gaussian"},
                {"family": "generalized_gaussian", "k": 8},
                {"family": "laplace"},
            ],
            "certify": {"certifiers": ["cohen", "wulff"], "alpha": [0.001]},
        }
    )  # fmt: skip


def rows(path):
    """Counts (without the wall-clock seconds) and certificates, in key order."""
    with Store(path) as st:
        counts = [row[:8] for row in st.table_rows("counts")]
        certificates = st.table_rows("certificates")
        manifest = st.manifest()
    return counts, certificates, manifest


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_run_equals_local_run_and_resumes(tmp_path, cluster):
    cfg = tiny()
    local = runner.run(cfg, tmp_path / "local.sqlite", progress=False)
    path = tmp_path / "ray.sqlite"
    runner.run(cfg, path, progress=False, executor="ray", stop_after=2, certify=False)
    with Store(path) as st:
        assert len(st.done_keys()) == 2 * 3  # two images, three noises each, then stopped
    # the resumed half on actors that keep freed host memory: the counts do not change
    runner.run(cfg, path, progress=False, executor="ray", keep_freed_memory=True)
    counts_local, certs_local, manifest_local = rows(local)
    counts_ray, certs_ray, manifest_ray = rows(path)
    assert len(counts_local) == 6 * 3
    for a, b in zip(counts_local, counts_ray, strict=True):
        assert a == b
    assert certs_local == certs_ray
    assert manifest_ray["executor"] == "ray" and manifest_local["executor"] == "local"
    # each Ray session records where its actors ran (the driver's machine is in provenance)
    for session in manifest_ray["sessions"]:
        assert len(session["workers"]) == 2 and all("(pid " in w for w in session["workers"])
        # each actor's elementwise math (the driver's provenance names only its own)
        assert all(f"elementwise math {math_path(torch.device('cpu'))}" in w
                   for w in session["workers"])  # fmt: skip
    for key in ("draw_method", "device_type", "models", "index_set", "sampling_config"):
        assert manifest_ray[key] == manifest_local[key], key
    assert ray.is_initialized()  # the executor joined the test's cluster; it leaves it up


class _OneActorDies(RayExecutor):
    """Its first actor is killed as soon as it starts, as an out-of-memory kill would."""

    def _actors(self, ray_module, setup_ref, device):
        actors = super()._actors(ray_module, setup_ref, device)
        ray_module.kill(actors[0])
        return actors


def test_a_lost_ray_worker_is_a_clear_error_and_the_run_resumes(tmp_path, cluster, monkeypatch):
    """A dead actor stops the run with a message that says how to resume (not Ray's own
    traceback); what finished stays in the store, and the next run completes it to the
    local run's counts."""
    cfg = tiny()
    path = tmp_path / "lost.sqlite"
    with monkeypatch.context() as patch:
        patch.setattr(runner, "make_executor", lambda name, **kw: _OneActorDies(workers=2))
        with pytest.raises(ValueError, match="a Ray worker was lost.*run the same command again"):
            runner.run(cfg, path, progress=False, executor="ray", certify=False)
    with Store(path) as st:  # the failed session still records the actor that lived
        (failed,) = st.get_manifest("sessions")
    assert len(failed["workers"]) == 1 and "(pid " in failed["workers"][0]
    runner.run(cfg, path, progress=False, executor="ray")
    local = runner.run(cfg, tmp_path / "local.sqlite", progress=False)
    assert rows(path)[0] == rows(local)[0]


def test_executor_names_and_arguments_are_checked():
    with pytest.raises(ValueError, match="unknown executor"):
        make_executor("dask")
    with pytest.raises(ValueError, match="ray executor"):
        make_executor("local", address="auto")
    with pytest.raises(ValueError, match="workers"):
        make_executor("ray", workers=0)


def test_ray_workers_load_the_runs_plugin_files(tmp_path, cluster, clean_registries):
    """A noise family from a plugin file (``run.plugins``) is rebuilt on Ray's workers,
    which load the driver's plugin files first; the counts equal a local run's."""
    (tmp_path / "mine.py").write_text(PLUGIN)
    raw = tiny().raw
    cfg = parse(
        {
            **raw,
            "run": {**raw["run"], "n_test": 2, "plugins": [str(tmp_path / "mine.py")]},
            "noises": [{"family": "file_gaussian"}],
            "certify": {"certifiers": ["file-cohen"], "alpha": [0.001]},
        }
    )
    path = runner.run(cfg, tmp_path / "ray.sqlite", progress=False, executor="ray")
    local = runner.run(cfg, tmp_path / "local.sqlite", progress=False)
    assert rows(path)[0] == rows(local)[0] and len(rows(path)[0]) == 2
    assert rows(path)[2]["plugins"] == [str((tmp_path / "mine.py").resolve())]


def test_more_workers_than_the_cluster_can_place_is_an_error_not_a_hang(
    tmp_path, cluster, monkeypatch
):
    """Ray queues an actor it cannot place and waits for it forever: three one-CPU
    workers on a two-CPU cluster hung at the first image it gave the third."""
    monkeypatch.setattr(ray_executor, "FREE_WAIT_S", 1.0)
    with pytest.raises(ValueError, match=r"3 Ray worker\(s\) need 3 CPUs.*--workers 2 or fewer"):
        runner.run(
            tiny(), tmp_path / "s.sqlite", progress=False, executor="ray", workers=3, certify=False
        )


def test_an_address_where_nothing_answers_is_refused_at_once():
    """Ray retries a HOST:PORT where no cluster listens for minutes, printing only its
    own warnings."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        check_reachable(f"127.0.0.1:{port}")  # something answers: left to Ray
    with pytest.raises(ValueError, match=f"no Ray cluster answers at 127.0.0.1:{port}"):
        check_reachable(f"127.0.0.1:{port}", timeout=2.0)
    not_host_ports = ("headnode", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:99999999999",
                      "headnode:\u00b2", " headnode:6379", "::1", ":6379", "2001:db8::1",
                      "fe80::1", "::1:6379", "[]:6379")  # fmt: skip
    for not_host_port in not_host_ports:
        with pytest.raises(ValueError, match="HOST:PORT of a Ray head node"):
            check_reachable(not_host_port, timeout=2.0)
    for left_to_ray in (None, "auto", "ray://headnode:10001"):
        check_reachable(left_to_ray)


class _PluginMissingOnTheNodes(RayExecutor):
    """Its actors are told to load a plugin file their node does not have."""

    missing = "/nonexistent/plugin_of_the_driver.py"

    def _actors(self, ray_module, setup_ref, device):
        setup = {**ray_module.get(setup_ref), "plugins": [self.missing]}
        return super()._actors(ray_module, ray_module.put(setup), device)


def test_a_worker_reading_another_source_of_a_noise_plugin_is_refused(
    tmp_path, cluster, clean_registries
):
    """Ray's workers import the run's plugin files from their own disks: one whose file
    differs from the code the driver registered (edited after the driver read it, or
    another copy on another node) would count another law's samples under the noise's
    name. It refuses to start, naming the family."""
    plugin = tmp_path / "mine.py"
    plugin.write_text(PLUGIN)
    raw = tiny().raw
    cfg = parse(
        {
            **raw,
            "run": {**raw["run"], "n_test": 2, "plugins": [str(plugin)]},
            "noises": [{"family": "file_gaussian"}],
            "certify": {"certifiers": ["file-cohen"], "alpha": [0.001]},
        }
    )
    plugin.write_text(PLUGIN + "\n# edited after the driver imported it\n")
    with pytest.raises(RuntimeError, match="'file_gaussian' from another source"):
        runner.run(cfg, tmp_path / "ray.sqlite", progress=False, executor="ray")


def test_a_worker_that_cannot_start_says_why_instead_of_lost(tmp_path, cluster, monkeypatch):
    monkeypatch.setattr(runner, "make_executor", lambda name, **kw: _PluginMissingOnTheNodes())
    with pytest.raises(RuntimeError, match="could not start.*plugin_of_the_driver"):
        runner.run(tiny(), tmp_path / "s.sqlite", progress=False, executor="ray", certify=False)


FAILING_PLUGIN = textwrap.dedent(
    """
    from harness.noise import Gaussian, register_noise


    @register_noise("failing_gaussian")
    class FailingGaussian(Gaussian):
        \"\"\"Passes the run's check of perturb, then fails as a device out of memory.\"\"\"

        calls = 0

        def perturb(self, x, draws, out=None):
            self.calls += 1
            if self.calls > 1:
                raise RuntimeError("CUDA out of memory (simulated)")
            return super().perturb(x, draws, out=out)
    """
)


@pytest.mark.filterwarnings("ignore:config key 'noises")
def test_a_worker_error_names_the_model_and_image(tmp_path, cluster, clean_registries):
    """Not only bad input (a ValueError): an out-of-memory error in a worker names the
    model and image it failed on and says the finished images are kept."""
    (tmp_path / "failing.py").write_text(FAILING_PLUGIN)
    raw = tiny().raw
    cfg = parse(
        {
            **raw,
            "run": {**raw["run"], "plugins": [str(tmp_path / "failing.py")]},
            "noises": [{"family": "failing_gaussian"}],
            "certify": {"certifiers": ["all"], "alpha": [0.001]},
        }
    )
    image = r"model digits-mlp-sigma0.25, image \d+: "
    with pytest.raises(RuntimeError, match=f"{image}CUDA out of memory"):
        runner.run(cfg, tmp_path / "local.sqlite", progress=False, certify=False)
    with pytest.raises(
        RuntimeError, match=f"a Ray worker failed on {image}CUDA out of memory.*in the store"
    ):
        runner.run(cfg, tmp_path / "ray.sqlite", progress=False, executor="ray", certify=False)


def test_the_command_lines_sigterm_handler_survives_ray_init(monkeypatch):
    """``ray.init`` installs a SIGTERM handler that aborts the process (exit 134, no
    message); the executor puts back the command line's, which stops a run cleanly."""

    class FakeRay:
        @staticmethod
        def is_initialized():
            return False

        @staticmethod
        def init(**kwargs):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def ours(signum, frame):
        raise KeyboardInterrupt

    monkeypatch.setattr(ray_executor, "_import_ray", lambda: FakeRay)
    previous = signal.signal(signal.SIGTERM, ours)
    try:
        RayExecutor()._connect()
        assert signal.getsignal(signal.SIGTERM) is ours
    finally:
        signal.signal(signal.SIGTERM, previous)


class _GpuClusterNoRun(RayExecutor):
    """A cluster with GPUs, as seen from a driver without one; it runs no task."""

    def device(self, requested):
        return torch.device("cuda")

    def run(self, plan, store, *, device, progress=True, stop_after=None):
        self.ran_on = device
        return True


def test_the_driver_of_a_gpu_cluster_needs_no_gpu(tmp_path, monkeypatch):
    """The run's own checks happen on this machine's CPU; the tasks go to the GPUs, and
    the run's identity says so (the draws of a GPU are not the CPU's)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a driver without one
    executor = _GpuClusterNoRun()
    monkeypatch.setattr(runner, "make_executor", lambda name, **kw: executor)
    path = runner.run(tiny(), tmp_path / "s.sqlite", progress=False, executor="ray", certify=False)
    assert executor.ran_on == torch.device("cuda")
    with Store(path) as st:
        manifest = st.manifest()
    assert manifest["device_type"] == "cuda"
    assert "none on this machine" in manifest["device_name"]


def test_the_bar_shows_the_images_under_way(tmp_path, cluster, monkeypatch, capsys):
    """Between finished images the bar says how much of the images under way the actors
    have sampled (an ImageNet image takes minutes); the counts are the local run's."""
    monkeypatch.setattr(ray_executor, "PROGRESS_EVERY_S", 0.05)  # the driver's polling
    cfg = tiny()
    path = runner.run(cfg, tmp_path / "ray.sqlite", progress=True, executor="ray", certify=False)
    assert "under way" in capsys.readouterr().err
    local = runner.run(cfg, tmp_path / "local.sqlite", progress=False, certify=False)
    assert rows(path)[0] == rows(local)[0]


def test_a_ray_run_of_two_models_equals_the_local_run(tmp_path, cluster, capsys):
    cfg = two_models()
    local = runner.run(cfg, tmp_path / "local.sqlite", progress=False)
    capsys.readouterr()
    path = runner.run(cfg, tmp_path / "ray.sqlite", progress=False, executor="ray", workers=1)
    assert "ray x" not in capsys.readouterr().err  # no bar when progress is off
    counts, certificates, manifest = rows(path)
    assert len(counts) == 2 * 3 * 2  # models, images, noises
    assert (counts, certificates) == rows(local)[:2]
    (session,) = manifest["sessions"]
    assert len(session["workers"]) == 1  # the one actor asked for
    # the batch each model took on the actor, as the local run records its own
    (local_session,) = rows(local)[2]["sessions"]
    assert session["batch_chosen"] == local_session["batch_chosen"] == {"a": 200, "b": 200}


def test_a_gpu_asked_of_a_cluster_without_one_is_refused(cluster):
    from harness.executors.ray_executor import RayExecutor

    executor = RayExecutor()
    for requested in ("cuda", "cuda:1"):
        with pytest.raises(ValueError, match="the cluster has no GPU"):
            executor.device(requested)
    assert executor.device("cpu").type == "cpu"
    assert executor.device(None).type == "cpu" and executor.device("auto").type == "cpu"


def test_a_workers_bad_input_stays_a_value_error_naming_the_image():
    """A worker's ``ValueError`` (bad input: exit code 2 on the command line) stays one,
    anything else becomes a ``RuntimeError``; both name the model and image once."""
    import torch

    from harness.executors.base import ImageTask
    from harness.executors.ray_executor import _task_failure

    task = ImageTask("m", 7, 1, torch.zeros(2), ("g",))
    bad = _task_failure(ValueError("model m, image 7: the noise is bad"), task, "kept")
    assert type(bad) is ValueError
    assert str(bad).count("model m, image 7: ") == 1 and "the noise is bad" in str(bad)
    oom = _task_failure(MemoryError("no memory"), task, "kept")
    assert type(oom) is RuntimeError
    assert "model m, image 7: MemoryError: no memory" in str(oom)


@pytest.mark.parametrize("address", [":6379", "headnode:", "headnode:port"])
def test_an_address_without_a_host_or_a_port_is_refused_by_its_form(address):
    """A HOST:PORT without its host (or its port) is named as malformed, never tried."""
    import socket

    from harness.executors.ray_executor import check_reachable

    with socket.socket() as listening:  # even where something answers on the port
        listening.bind(("", 0))
        listening.listen()
        port = listening.getsockname()[1]
        given = address.replace("6379", str(port))
        with pytest.raises(ValueError, match="give HOST:PORT of a Ray head node"):
            check_reachable(given, timeout=1.0)


def test_a_bracketed_ipv6_address_is_host_port(monkeypatch):
    """``[::]:6379`` and ``[::1]:6379`` are tried at the address in the brackets; the
    first was refused as not HOST:PORT (review)."""
    import harness.executors.ray_executor as ray_executor

    tried = []

    class Connected:
        def close(self) -> None:
            pass

    def connect(address, timeout=None):
        tried.append(address)
        return Connected()

    monkeypatch.setattr(ray_executor.socket, "create_connection", connect)
    for address in ("[::]:6379", "[::1]:6380", "headnode:6381", "10.0.0.1:65535"):
        check_reachable(address, timeout=0.1)
    assert tried == [("::", 6379), ("::1", 6380), ("headnode", 6381), ("10.0.0.1", 65535)]


@pytest.mark.parametrize(
    ("gpu_ids", "visible", "index"),
    [
        ([0], "0", 0),  # Ray's default: each actor sees only the GPU it was given
        (["3"], "3", 0),
        ([2], None, 2),  # RAY_EXPERIMENTAL_NOSET_CUDA_VISIBLE_DEVICES: every GPU visible
        (["5"], "4,5,6", 1),  # ... of those the node was started with
        (["GPU-b2"], "GPU-a1,GPU-b2", 1),  # GPUs named by UUID
    ],
)
def test_an_actor_samples_on_the_gpu_ray_gave_it(gpu_ids, visible, index):
    assert ray_executor.actor_device("cuda", gpu_ids, visible) == torch.device("cuda", index)


def test_an_actor_makes_its_gpu_the_current_one(monkeypatch):
    """What asks for ``cuda`` alone (the free memory ``auto_batch_size`` reads) means the
    actor's GPU, not the first."""
    made_current = []
    monkeypatch.setattr(ray, "get_gpu_ids", lambda: [2])
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(torch.cuda, "set_device", made_current.append)
    assert ray_executor.this_actors_device("cuda") == torch.device("cuda", 2)
    assert made_current == [torch.device("cuda", 2)]
    assert ray_executor.this_actors_device("cpu") == torch.device("cpu")
    assert made_current == [torch.device("cuda", 2)]


def test_an_actor_whose_gpu_is_hidden_says_so_and_cpu_actors_use_the_cpu():
    with pytest.raises(RuntimeError, match="GPU 7.*CUDA_VISIBLE_DEVICES=0,1 hides"):
        ray_executor.actor_device("cuda", [7], "0,1")
    assert ray_executor.actor_device("cpu", [], None) == torch.device("cpu")


def test_the_batches_of_actors_that_chose_others_are_all_recorded():
    taken = ray_executor.batches_taken({"a": {1000, 500}, "b": {400}})
    assert taken == {"a": [500, 1000], "b": 400}
