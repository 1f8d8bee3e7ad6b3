"""End-to-end: config -> counts -> certificates, resumption and atomicity."""

import json

import numpy as np
import pytest

from harness import runner
from harness.certify import certify_store
from harness.config import parse
from harness.draws import DrawStream
from harness.host_memory import host_memory_state
from harness.identity import difference
from harness.store import CountRow, ImportedRow, Store
from tests.interruptions import stop_at_manifest_key


def tiny(**run):
    return parse(
        {
            "run": {
                "name": "tiny", "dataset": "digits", "arch": "mlp", "train_sigmas": [0.25],
                "seed": 3, "n_test": 8, "n0": 20, "n": 600, "batch_size": 250, **run,
            },
            "noises": [
                {"family": "gaussian"},
                {"family": "gaussian", "matched": False, "sigma": 0.4},
            ],
            "certify": {"certifiers": ["cohen"], "alpha": [0.001]},
        }
    )  # fmt: skip


def snapshot(path):
    """Counts and certificates, without wall-clock seconds."""
    with Store(path) as st:
        counts = [row[:8] for row in st.table_rows("counts")]
        certs = st.table_rows("certificates")
        manifest = {k: v for k, v in st.manifest().items() if k not in ("code_version", "sessions")}
    return counts, certs, manifest


def test_resumed_run_equals_uninterrupted(tmp_path):
    cfg = tiny()
    full = runner.run(cfg, tmp_path / "full.sqlite", progress=False)
    part = tmp_path / "part.sqlite"
    runner.run(cfg, part, progress=False, stop_after=3, certify=False)
    with Store(part) as st:
        assert len(st.done_keys()) == 3 * 2
    runner.run(cfg, part, progress=False)
    assert snapshot(full) == snapshot(part)
    counts, certs, manifest = snapshot(full)
    assert len(counts) == 8 * 2 and len(certs) == 8 * 2 * 3  # 3 norms
    assert manifest["index_set"] == sorted(manifest["index_set"])
    assert len(manifest["index_set"]) == 8


def test_batch_size_does_not_change_the_store(tmp_path):
    """The draws do not depend on the batch size; the model's rounding can, on a draw
    whose top two logits tie within it, and no draw of this small run comes that close."""
    a = runner.run(tiny(batch_size=600), tmp_path / "a.sqlite", progress=False)
    b = runner.run(tiny(batch_size=77), tmp_path / "b.sqlite", progress=False)
    ca, _, _ = snapshot(a)
    cb, _, _ = snapshot(b)
    assert ca == cb


def test_failure_mid_write_leaves_no_partial_row(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store(path) as st:
        st.put_noises({"g": {"family": "gaussian", "params": {"sigma": 1.0, "dim": 4}}})
        good = CountRow("m", "g", 0, 1, np.array([1, 2]), np.array([3, 4]), 0.1)

        def rows():
            yield good
            yield CountRow("m", "g", 1, 1, np.array([1, 2]), np.array([3, -4]), 0.1)

        with pytest.raises(ValueError, match="non-negative"):
            st.put_counts(rows())
        assert st.done_keys() == set()
        st.put_counts([good])
        with pytest.raises(Exception, match="UNIQUE"):
            st.put_counts([good])
        assert st.done_keys() == {("m", "g", 0)}


def test_a_run_stopped_while_recording_its_manifest_leaves_no_noise_specs(tmp_path, monkeypatch):
    """The noise specs and the manifest commit together: specs left without a manifest
    would survive into a later run of another config, and its report would list them."""
    path = tmp_path / "s.sqlite"
    stop_at_manifest_key(monkeypatch, "plugins")
    with pytest.raises(KeyboardInterrupt):
        runner.run(tiny(), path, progress=False, certify=False)
    with Store(path) as st:
        assert st.noise_specs() == {} and st.manifest().keys() <= {"schema_version"}
    monkeypatch.undo()
    runner.run(tiny(), path, progress=False, stop_after=1, certify=False)
    with Store(path) as st:
        assert len(st.noise_specs()) == 2 and st.get_manifest("plugins") is not None


def test_changed_config_refuses_to_resume(tmp_path):
    path = tmp_path / "s.sqlite"
    runner.run(tiny(), path, progress=False, stop_after=1, certify=False)
    with pytest.raises(ValueError, match="differs in 'seed'"):
        runner.run(tiny(seed=4), path, progress=False)


def test_certify_recomputes_for_another_alpha(tmp_path):
    path = runner.run(tiny(), tmp_path / "s.sqlite", progress=False)
    with Store(path) as st:
        certify_store(st, ["cohen"], ["l2"], [0.1], progress=False)
        rows = st.query(
            "SELECT alpha, image, radius, p_lower FROM certificates WHERE norm = 'l2'"
            " ORDER BY image, alpha"
        )
        counts = {r.image: r for r in st.count_rows() if r.noise.endswith("sigma=0.25)")}
    by_image = {}
    for alpha, image, radius, p_lower in rows:
        by_image.setdefault(image, {})[alpha] = (radius, p_lower)
    # looser alpha: a higher lower bound, never a smaller radius
    for pair in by_image.values():
        assert pair[0.1][1] >= pair[0.001][1] and pair[0.1][0] >= pair[0.001][0]
    assert counts and all(int(r.estimation.sum()) == 600 for r in counts.values())


@pytest.mark.parametrize(
    "norms,alphas,message",
    [
        (["l2"], [0.0], r"alpha must lie in \(0, 1\)"),
        (["l2"], [1.5], r"alpha must lie in \(0, 1\)"),
        (["l2"], [], "at least one alpha"),
        (["l3"], [0.1], r"unknown norm 'l3'; known: \['l1', 'l2', 'linf'\]"),
        ([], [0.1], "at least one norm is needed"),
    ],
)
def test_certify_refuses_bad_alphas_and_norms_before_writing(tmp_path, norms, alphas, message):
    path = runner.run(tiny(), tmp_path / "s.sqlite", progress=False)
    with Store(path) as st:
        before = st.query("SELECT COUNT(*) FROM certificates")[0][0]
        options = st.get_manifest("certifier_options")
        with pytest.raises(ValueError, match=message):
            certify_store(st, ["cohen"], norms, alphas, progress=False)
        assert st.query("SELECT COUNT(*) FROM certificates")[0][0] == before
        assert st.get_manifest("certifier_options") == options


def test_manifest_records_the_run(tmp_path):
    path = runner.run(tiny(), tmp_path / "s.sqlite", progress=False, stop_after=1)
    with Store(path) as st:
        m = st.manifest()
    for key in ("config", "seed", "code_version", "models", "dataset", "index_set", "device",
                "torch_version", "n0", "n"):  # fmt: skip
        assert key in m, key
    (model,) = m["models"].values()
    assert len(model["sha256"]) == 64
    json.dumps(m)


def test_each_session_of_a_resumed_run_keeps_its_provenance(tmp_path, monkeypatch):
    """A resumed run overwrites the top-level provenance; ``sessions`` keeps one record a
    session, with what the store held when it began."""
    from harness import provenance

    path = tmp_path / "s.sqlite"
    runner.run(tiny(), path, progress=False, stop_after=3, certify=False)
    monkeypatch.setattr(provenance, "code_version", lambda: "9.9+elsewhere")
    runner.run(tiny(batch_size=100), path, progress=False)
    with Store(path) as st:
        first, second = st.get_manifest("sessions")
        assert st.get_manifest("code_version") == "9.9+elsewhere"
    assert first["code_version"] != "9.9+elsewhere" and second["code_version"] == "9.9+elsewhere"
    assert (first["counts_stored_before"], second["counts_stored_before"]) == (0, 3 * 2)
    assert first["executor"] == second["executor"] == "local"
    assert (first["batch_size"], second["batch_size"]) == (250, 100)
    assert first["started"] <= second["started"]
    for record in (first, second):
        assert record["elementwise_math"] and record["device"] == "cpu"


@pytest.mark.slow
def test_killed_process_resumes_to_the_same_store(tmp_path):
    """SIGKILL a real `smoothbench run` mid-way, run it again, compare with a clean run."""
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    cfg = tmp_path / "kill.toml"
    cfg.write_text(
        '[run]\nname = "kill"\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.25]\n'
        "seed = 9\nn_test = 40\nn0 = 50\nn = 4000\nbatch_size = 1000\n"
        '[[noises]]\nfamily = "gaussian"\n[certify]\ncertifiers = ["cohen"]\n'
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "harness.cli", "run", str(cfg), "--quiet", "--store"]
    killed = tmp_path / "killed.sqlite"
    proc = subprocess.Popen([*cmd, str(killed)], env=env)
    deadline = time.time() + 120
    rows = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
        if killed.exists():
            try:
                db = sqlite3.connect(f"file:{killed}?mode=ro", uri=True)
                rows = db.execute("SELECT COUNT(*) FROM counts").fetchone()[0]
                db.close()
            except sqlite3.Error:  # the schema may not be written yet
                rows = 0
            if rows >= 5:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 5 <= rows < 40, f"kill landed at {rows} rows; the test needs a mid-run kill"
    subprocess.run([*cmd, str(killed)], env=env, check=True)
    clean = tmp_path / "clean.sqlite"
    subprocess.run([*cmd, str(clean)], env=env, check=True)
    assert snapshot(killed) == snapshot(clean)


def test_a_store_of_the_earlier_draws_refuses_to_resume(tmp_path):
    """Stores written before the exact base draws lack 'draw_method': their counts came
    from float32 torch.randn and cannot be continued with the new draws."""
    path = tmp_path / "old.sqlite"
    runner.run(tiny(), path, progress=False, stop_after=1, certify=False)
    import sqlite3

    with sqlite3.connect(path) as db:  # as a store written before the key existed
        db.execute("DELETE FROM manifest WHERE key = 'draw_method'")
    with pytest.raises(ValueError, match="earlier base draws"):
        runner.run(tiny(), path, progress=False)


def test_a_store_naming_its_cpu_draws_by_their_earlier_name_resumes(tmp_path):
    """The CPU source was named ``numpy-sfc64-ufuncs``, also where torch's kernels did the
    math; the name changed, the draws did not: such a store resumes, another method not."""
    path = tmp_path / "s.sqlite"
    runner.run(tiny(), path, progress=False, stop_after=1, certify=False)
    with Store(path) as st:
        method = st.get_manifest("draw_method")
        assert method.endswith("/numpy-sfc64")
        st.put_manifest({"draw_method": method + "-ufuncs"})
    runner.run(tiny(), path, progress=False, stop_after=1, certify=False)
    with Store(path) as st:
        assert len(st.done_keys()) == 2 * len(tiny().noises)
        st.put_manifest({"draw_method": method.replace("u53", "u52") + "-ufuncs"})
    with pytest.raises(ValueError, match="differs in 'draw_method'"):
        runner.run(tiny(), path, progress=False, certify=False)


def test_a_store_of_another_chunk_layout_refuses_to_resume(tmp_path):
    """Rows are addressed by chunks of CHUNK_ROWS: a store whose chunks were cut otherwise
    drew other rows under the same addresses, and is refused."""
    path = tmp_path / "s.sqlite"
    runner.run(tiny(), path, progress=False, stop_after=1, certify=False)
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("UPDATE manifest SET value = '500' WHERE key = 'chunk_rows'")
    with pytest.raises(ValueError, match="'chunk_rows': stored 500, now 1000"):
        runner.run(tiny(), path, progress=False)


def test_a_store_of_an_earlier_coupling_refuses_to_resume(tmp_path):
    """The mixed norm's coupling changed (version 2): a store whose manifest lacks it
    (written by version 1) is refused, naming the key; a run without a changed family
    records nothing, so its earlier stores resume as before."""
    mixed = parse({**tiny().raw, "noises": [{"family": "mixed_norm", "k": 8}]})
    path = tmp_path / "mixed.sqlite"
    runner.run(mixed, path, progress=False, stop_after=1, certify=False)
    with Store(path) as st:
        assert st.get_manifest("noise_couplings") == {"mixed_norm": 2}
    import sqlite3

    with sqlite3.connect(path) as db:  # as version 1 wrote it
        db.execute("DELETE FROM manifest WHERE key = 'noise_couplings'")
    with pytest.raises(ValueError, match=r"noise_couplings.*mixed_norm"):
        runner.run(mixed, path, progress=False)
    plain = runner.run(tiny(), tmp_path / "plain.sqlite", progress=False, stop_after=1)
    with Store(plain) as st:
        assert st.get_manifest("noise_couplings") is None


def test_a_certifier_added_later_samples_nothing(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite"
    runner.run(tiny(), path, progress=False)
    import harness.executors.base as base

    def no_sampling(*args, **kwargs):
        raise AssertionError("a finished run sampled again")

    monkeypatch.setattr(base, "certify_counts", no_sampling)
    cfg = parse({**tiny().raw, "certify": {"certifiers": ["cohen", "fdiv-kl"], "alpha": [0.001]}})
    runner.run(cfg, path, progress=False)
    with Store(path) as st:
        names = {r[0] for r in st.query("SELECT DISTINCT certifier FROM certificates")}
    assert names == {"cohen", "fdiv-kl"}


def test_manifest_states_the_draws_the_tables_and_the_forward_precision(tmp_path):
    cfg = parse(
        {
            **tiny().raw,
            "run": {**tiny().raw["run"], "autocast": "bf16"},
            "noises": [{"family": "gaussian"}, {"family": "generalized_gaussian", "k": 8}],
        }
    )
    path = runner.run(cfg, tmp_path / "s.sqlite", progress=False, stop_after=1, certify=False)
    with Store(path) as st:
        m = st.manifest()
    assert m["draw_method"].startswith("box-muller(u53,v53")
    assert m["base_draws"]["dim"] == 64 and m["base_draws"]["unreachable_mass_per_row"] < 1e-14
    assert m["sampler"]["autocast"] == "bf16" and m["sampler"]["noise_dtype"] == "float32"
    assert m["host_memory"] == host_memory_state()
    # the elementwise math the CPU's draws took (numpy's ufuncs or torch's kernels)
    assert ("numpy" in m["elementwise_math"]) is DrawStream(0, 0, 0, 64)._host_math
    (name,) = m["noise_approximations"]  # the Gaussian is exact; the other has a table
    assert name.startswith("generalized_gaussian")
    assert m["noise_approximations"][name]["radius table"]["tv_bound"] < 1e-6
    # the forward pass's precision decides the counts: another one, alone, refuses to resume
    full_precision = parse({**cfg.raw, "run": {**cfg.raw["run"], "autocast": "none"}})
    with pytest.raises(ValueError, match="sampling_config.*autocast"):
        runner.run(full_precision, path, progress=False)


def test_reordered_noises_and_models_resume(tmp_path):
    """Neither the order of [[noises]] (nor of a grid's values) nor that of [[models]]
    changes a count, so a reordered config resumes the stored run."""
    models = [{"recipe": "mlp", "sigma0": 0.25}, {"recipe": "mlp", "sigma0": 0.5, "name": "b"}]
    noises = [
        {"family": "gaussian"},
        {"family": "generalized_gaussian", "k": [8, 16]},
        {"family": "laplace"},
    ]
    run = {k: v for k, v in tiny().raw["run"].items() if k not in ("arch", "train_sigmas")}

    def config(models, noises):
        return parse({"run": run, "models": models, "noises": noises,
                      "certify": {"certifiers": ["cohen"]}})  # fmt: skip

    full = runner.run(config(models, noises), tmp_path / "full.sqlite", progress=False)
    part = tmp_path / "part.sqlite"
    runner.run(config(models, noises), part, progress=False, stop_after=3, certify=False)
    shuffled = [noises[2], {"family": "generalized_gaussian", "k": [16, 8]}, noises[0]]
    runner.run(config(models[::-1], shuffled), part, progress=False)
    assert snapshot(full)[:2] == snapshot(part)[:2]


def test_a_renamed_run_or_a_default_written_out_resumes(tmp_path):
    """The run's name decides no count, and ``seed = 0`` (or ``autocast = "none"``)
    written out is its default: neither refuses the stored run; a seed that differs does."""
    full = runner.run(tiny(seed=0), tmp_path / "full.sqlite", progress=False)
    part = runner.run(tiny(seed=0), tmp_path / "part.sqlite", progress=False, stop_after=2)
    run = {k: v for k, v in tiny().raw["run"].items() if k != "seed"}
    run.update(name="renamed", autocast="none", channels_last=False)
    runner.run(parse({**tiny().raw, "run": run}), part, progress=False)
    assert snapshot(full)[:2] == snapshot(part)[:2]
    with pytest.raises(ValueError, match="differs in 'seed'"):
        runner.run(tiny(seed=1), part, progress=False)


def test_a_run_on_another_dataset_than_the_imported_certificates_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    row = ImportedRow(
        "cifar10", "theirs", "gaussian(dim=3072,sigma=0.25)", "cohen", "l2", 0.001,
        0, 3, 3, 0.5, True, 15.0, "theirs.tsv",
    )  # fmt: skip
    with Store(path) as st:
        st.put_imported([row])
    with pytest.raises(ValueError, match="imported for cifar10, but this run samples digits"):
        runner.run(tiny(), path, progress=False)
    with Store(path) as st:
        assert st.table_rows("counts") == []


def test_resume_refusal_shows_the_whole_difference(tmp_path):
    path = tmp_path / "s.sqlite"
    runner.run(tiny(), path, progress=False, stop_after=1, certify=False)
    changed = tiny().raw
    changed["noises"] = [
        {"family": "gaussian"},
        {"family": "gaussian", "matched": False, "sigma": 0.41},
    ]
    with pytest.raises(ValueError) as err:
        runner.run(parse(changed), path, progress=False)
    message = str(err.value)
    assert "differs in 'sampling_config'" in message
    # the leaf that differs, with both values in full, however long the manifest
    assert "'sampling_config.noises[0].params.sigma': stored 0.4, now 0.41" in message
    with pytest.raises(
        ValueError, match="'index_set': stored \\[.*\\] \\(8 items\\), now \\[.*\\] \\(300\\)"
    ):
        runner.run(tiny(n_test=300), path, progress=False)


def test_a_changed_noise_list_names_the_noises_that_differ(tmp_path):
    """Noises are compared as sets, not by their place in a sorted list: a noise replaced
    by another is named with its replacement, and several changes are listed."""
    path = tmp_path / "s.sqlite"
    runner.run(tiny(), path, progress=False, stop_after=1, certify=False)
    replaced = tiny().raw
    # the matched Gaussian (second when sorted) replaced by a noise sorted first
    replaced["noises"] = [
        {"family": "gaussian", "matched": False, "sigma": 0.4},
        {"family": "exp2"},
    ]
    with pytest.raises(ValueError) as err:
        runner.run(parse(replaced), path, progress=False)
    assert "'sampling_config.noises[1].family': stored 'gaussian', now 'exp2'" in str(err.value)
    several = tiny().raw
    several["noises"] = [{"family": "laplace"}, {"family": "uniform_cube"}]
    with pytest.raises(ValueError) as err:
        runner.run(parse(several), path, progress=False)
    message = str(err.value)
    assert "'sampling_config.noises': stored, not now: [" in message
    assert "now, not stored: [" in message and "'laplace'" in message


def test_data_changed_in_place_refuses_to_resume(tmp_path, monkeypatch):
    """The same dataset name, index set and files, other pixels: refused on resume."""
    from dataclasses import replace

    from baselines.datasets import load_dataset

    path = tmp_path / "s.sqlite"
    runner.run(tiny(), path, progress=False, stop_after=2, certify=False)
    with Store(path) as st:
        index_set = st.get_manifest("index_set")
        assert st.get_manifest("data_sha256").startswith("sha256:")

    def changed(*args, **kwargs):
        data = load_dataset(*args, **kwargs)

        def get(i):
            x, y = data[i]
            return (x.flip(-1) if i == index_set[-1] else x), y

        return replace(data, get=get)

    monkeypatch.setattr(runner, "load_dataset", changed)
    with pytest.raises(ValueError, match="differs in 'data_sha256'"):
        runner.run(tiny(), path, progress=False)
    monkeypatch.undo()
    runner.run(tiny(), path, progress=False)  # the original data resumes


def test_a_stopped_run_certifies_nothing_and_a_finished_one_everything(tmp_path):
    path = tmp_path / "s.sqlite"
    runner.run(tiny(n_test=4), path, progress=False, stop_after=2)  # certify=True, unfinished
    with Store(path) as st:
        assert len(st.done_keys()) == 2 * 2  # images x noises
        assert st.table_rows("certificates") == []
    runner.run(tiny(n_test=4), path, progress=False)
    with Store(path) as st:
        assert len(st.table_rows("certificates")) == 4 * 2 * 3  # images x noises x norms


def test_certify_false_writes_no_certificates(tmp_path):
    path = runner.run(tiny(n_test=4), tmp_path / "s.sqlite", progress=False, certify=False)
    with Store(path) as st:
        assert len(st.done_keys()) == 4 * 2
        assert st.table_rows("certificates") == []


def test_every_configured_alpha_is_certified(tmp_path):
    raw = tiny(n_test=2).raw
    cfg = parse(
        {**raw, "certify": {"certifiers": ["cohen"], "norms": ["l2"], "alpha": [0.001, 0.01]}}
    )
    path = runner.run(cfg, tmp_path / "s.sqlite", progress=False)
    with Store(path) as st:
        alphas = sorted(a for (a,) in st.query("SELECT DISTINCT alpha FROM certificates"))
        assert alphas == [0.001, 0.01]
        assert len(st.table_rows("certificates")) == 2 * 2 * 2  # images x noises x alphas


def test_a_key_gone_or_added_inside_a_table_is_named():
    """A model, say, that the store holds and the config no longer names (or the reverse)
    is named with its path, not reported as a difference of the whole table."""
    stored = {"m1": {"sha256": "a"}, "m2": {"sha256": "b"}}
    assert difference(stored, {"m1": {"sha256": "a"}}, "models") == (
        "'models.m2': stored {'sha256': 'b'}, now absent"
    )
    assert difference({"m1": {"sha256": "a"}}, stored, "models") == (
        "'models.m2': absent in the store, now {'sha256': 'b'}"
    )
    assert difference(stored, dict(stored), "models") is None
