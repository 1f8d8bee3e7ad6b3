"""Executors: a Ray run (a local cluster of two CPUs, as in CI) writes the same store as
a local run, row by row, and a stopped Ray run resumes to it."""

from __future__ import annotations

import pytest
import ray

from harness import runner
from harness.config import parse
from harness.executors import make_executor
from harness.executors.ray_executor import RayExecutor
from harness.store import Store
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
