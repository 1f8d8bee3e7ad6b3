import math
import platform
import subprocess
import sys

import pytest

from harness.cli import main
from harness.store import Store
from tests.interruptions import stop_at_call, stop_at_manifest_key


@pytest.mark.parametrize(
    "cmd", [[], ["run"], ["certify"], ["report"], ["import"], ["export"], ["list"]]
)
def test_help(cmd, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*cmd, "--help"])
    assert exc.value.code == 0
    assert "usage: smoothbench" in capsys.readouterr().out


def test_run_certify_report(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[run]\nname = "t"\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\n'
        'n_test = 4\nn0 = 10\nn = 200\n[[noises]]\nfamily = "gaussian"\n'
        '[certify]\ncertifiers = ["cohen"]\n'
    )
    store = tmp_path / "s.sqlite"
    assert main(["run", str(cfg), "--store", str(store), "--quiet"]) == 0
    done = capsys.readouterr()
    assert done.out == f"counts and certificates in {store}\n"
    assert done.err.endswith(f"next: smoothbench report {store}\n")  # what to do now
    with Store(store) as st:  # the CLI keeps freed host memory by default (glibc)
        kept = st.manifest()["host_memory"].startswith("glibc, freed memory kept")
    assert kept or platform.libc_ver()[0] != "glibc"
    assert main(["certify", str(store), "--alpha", "0.01", "--quiet"]) == 0
    out = tmp_path / "out"
    assert main(["report", str(store), "--out", str(out)]) == 0
    assert (out / "leaderboard.md").read_text().count("cohen") >= 3


def test_errors_are_reported_not_raised(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[run]\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\nn0 = 0\n')
    assert main(["run", str(cfg), "--store", str(tmp_path / "s.sqlite")]) == 2
    assert "run.n0" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.sqlite")]) == 2


def test_console_module_entry():
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli", "list"], capture_output=True, text=True, check=True
    )
    assert "cohen" in out.stdout and "gaussian" in out.stdout
    assert "cifar_resnet110" in out.stdout and "state_dict" in out.stdout
    assert "cohen2019-cifar10-resnet110-noise0.25" in out.stdout


def test_list_gives_each_noise_familys_parameters_scale_first(capsys):
    """A config's ``[[noises]]`` table needs the parameter names: ``list`` gives them."""
    from harness.noise import noise_class, noise_families

    assert main(["list"]) == 0
    lines = {
        line.split()[0]: line.split(None, 1)[1]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("  ") and line.split()[0] in noise_families()
    }
    assert sorted(lines) == noise_families()
    for family, text in lines.items():
        cls = noise_class(family)
        names = [item.split("=")[0] for item in text.split(", ")]
        assert names[0] == cls.scale_param
        assert sorted(names) == sorted(p for p in cls.constructor_params() if p != "dim")
    assert lines["exp2"] == "scale, k=1, j=0"


def test_list_names_every_registered_sanity_check(capsys, tmp_path):
    """Plugins add checks as they add noises and certifiers; ``list`` named the others
    only (CLI audit). A check registered here appears too."""
    from reports.sanity import SANITY_CHECKS, register_check
    from reports.sanity.base import SanityCheck

    @register_check("listed-by-list")
    class Listed(SanityCheck):
        def run(self, inputs, context):  # pragma: no cover - never run here
            raise AssertionError

    try:
        assert main(["list"]) == 0
        line = next(
            line for line in capsys.readouterr().out.splitlines() if line.startswith("sanity")
        )
        names = line.split(": ", 1)[1].split(", ")
        assert names == sorted(name for name, _ in SANITY_CHECKS.items())
        assert "listed-by-list" in names and "soundness" in names
    finally:
        SANITY_CHECKS.unregister("listed-by-list")


def test_plan_draws_writes_a_probability_near_one_by_its_complement(capsys):
    """Phi(8) prints as 1.000000; what it lacks to 1 is 0.5 erfc(8 / sqrt 2) = 6.22e-16."""
    assert main(["plan", "draws", "--sigma", "0.25", "--radius", "2", "--p", "0.9999999"]) == 0
    text = capsys.readouterr().out
    assert f"needs p_A >= 1 - {0.5 * math.erfc(8 / math.sqrt(2)):.3g}\n" in text
    assert "top-class probability 0.9999999 is not above it" in text


def test_plan_draws_gives_the_least_draws_any_model_needs(capsys):
    """With all n draws on the top class p_A = alpha^(1/n): the least n with
    alpha^(1/n) >= p_needed is ceil(ln alpha / ln p_needed)."""
    from scipy.stats import norm

    for radius, sigma in ((0.5, 0.25), (0.1, 0.5), (1.0, 0.25)):
        argv = ["plan", "draws", "--sigma", str(sigma), "--radius", str(radius), "--p", "0.9"]
        assert main(argv) == 0
        text = capsys.readouterr().out
        least = math.ceil(math.log(0.001) / math.log(norm.cdf(radius / sigma)))
        assert f"any model needs at least {least:,} estimation draws" in text


def test_plan_images_and_draws(capsys):
    from scipy.stats import beta, norm

    from reports import stats

    assert main(["plan", "images", "--base", "0.49", "--gap", "0.01"]) == 0
    text = capsys.readouterr().out
    assert f"{stats.unpaired_sample_size(0.5, 0.49).n:,} images per arm" in text
    assert main(["plan", "draws", "--sigma", "0.25", "--radius", "0.5", "--p", "0.99"]) == 0
    text = capsys.readouterr().out
    n = int(text.split("about ")[1].split(" ")[0].replace(",", ""))
    need = norm.cdf(0.5 / 0.25)
    # the Clopper-Pearson bound at the expected count 0.99 n: enough at n, not at n - 1
    assert beta.ppf(0.001, 0.99 * n, 0.01 * n + 1) >= need
    assert beta.ppf(0.001, 0.99 * (n - 1), 0.01 * (n - 1) + 1) < need
    assert main(["plan", "draws", "--sigma", "0.25", "--radius", "0.5", "--p", "0.9"]) == 0
    assert "not reachable" in capsys.readouterr().out
    assert main(["plan", "images", "--base", "0.99", "--gap", "0.05"]) == 2


@pytest.mark.parametrize(
    "args,option",
    [
        (["draws", "--sigma", "0.25", "--radius", "0.5", "--p", "1.5"], "--p"),
        (["draws", "--sigma", "0.25", "--radius", "0.5", "--p", "nan"], "--p"),
        (["draws", "--sigma", "0.25", "--radius", "0.5", "--p", "0.9", "--alpha", "0"], "--alpha"),
        (["images", "--base", "0.5", "--gap", "0.01", "--level", "0"], "--level"),
        (["images", "--base", "0.5", "--gap", "0.01", "--power", "1"], "--power"),
    ],
)
def test_plan_checks_its_options_before_printing(args, option, capsys):
    assert main(["plan", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and option in captured.err


def test_run_ctrl_c_says_how_to_resume(tmp_path, monkeypatch, capsys):
    from harness import runner

    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[run]\nname = "t"\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\n'
        "n_test = 2\nn = 100\n"
    )

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run", interrupted)
    rc = main(["run", str(cfg), "--store", str(tmp_path / "s.sqlite"), "--threads", "1"])
    assert rc == 130
    captured = capsys.readouterr()
    err = captured.err
    assert "interrupted" in err and "run the same command again to resume" in err
    assert "Traceback" not in err + captured.out


def _two_noise_config(tmp_path, certifiers='"cohen"'):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[run]\nname = "t"\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\n'
        'n_test = 3\nn0 = 10\nn = 100\n[[noises]]\nfamily = "gaussian"\n'
        '[[noises]]\nfamily = "gaussian"\nmatched = false\nsigma = 0.4\n'
        f"[certify]\ncertifiers = [{certifiers}]\nalpha = [0.001]\n"
    )
    return cfg


@pytest.mark.parametrize(
    ("where", "said"),
    [
        (
            "models",
            "nothing stored in {store} (the run stopped before its plan: reading the data, "
            "loading or training its models, or creating the store)",
        ),
        ("plan", "nothing stored in {store} (the run stopped before recording its plan)"),
        ("sampling", "2 of 3 images stored in {store}"),
        (
            "deterministic",
            "the counts of all 3 images stored in {store}; the deterministic certificates",
        ),
        (
            "certification",
            "the counts of all 3 images stored in {store}; certification stopped after 1 of 2 "
            "(model, noise) groups",
        ),
    ],
)
def test_a_stopped_run_says_which_step_it_stopped_in(tmp_path, monkeypatch, capsys, where, said):
    """The message of a run stopped by Ctrl-C names what the store holds and, once every
    image is sampled, the step left unfinished; the same command then completes it."""
    from harness import runner
    from harness.store import Store as StoreClass

    cfg = _two_noise_config(tmp_path, '"cohen", "ibp"')
    store = tmp_path / "s.sqlite"
    argv = ["run", str(cfg), "--store", str(store), "--quiet", "--threads", "1"]
    if where == "models":
        stop_at_call(monkeypatch, runner, "build_models", 1)
    elif where == "plan":
        stop_at_manifest_key(monkeypatch, "index_set")
    elif where == "sampling":
        stop_at_call(monkeypatch, StoreClass, "put_counts", 3)
    elif where == "deterministic":
        stop_at_call(monkeypatch, runner, "certify_deterministic", 1)
    else:
        stop_at_call(monkeypatch, StoreClass, "put_certificates", 2)
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert said.format(store=store) in err and "run the same command again to resume" in err
    monkeypatch.undo()
    assert main(argv) == 0
    with Store(store, readonly=True) as st:
        assert len(st.done_keys()) == 3 * 2
        assert st.query("SELECT COUNT(DISTINCT noise) FROM certificates") == [(2,)]


def test_a_stopped_certify_says_which_groups_it_wrote(tmp_path, monkeypatch, capsys):
    from harness.store import Store as StoreClass

    cfg = _two_noise_config(tmp_path)
    store = tmp_path / "s.sqlite"
    assert main(["run", str(cfg), "--store", str(store), "--quiet", "--threads", "1"]) == 0
    stop_at_call(monkeypatch, StoreClass, "put_certificates", 2)
    argv = ["certify", str(store), "--alpha", "0.01", "--quiet"]
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert "certification stopped after 1 of 2 (model, noise) groups, whose 9 certificates" in err
    assert str(store) in err and "run the same command again" in err
    with Store(store, readonly=True) as st:
        assert st.query("SELECT COUNT(*) FROM certificates WHERE alpha = 0.01") == [(9,)]
    monkeypatch.undo()
    assert main(argv) == 0
    with Store(store, readonly=True) as st:
        assert st.query("SELECT COUNT(*) FROM certificates WHERE alpha = 0.01") == [(18,)]


def test_a_store_error_names_the_store_and_how_to_resume(tmp_path, monkeypatch, capsys):
    """SQLite's messages (a read-only store, a disk I/O error) do not name the file: the
    run's and certify's errors do, and the run's says how to go on."""
    import sqlite3

    from harness.store import Store as StoreClass

    cfg = _two_noise_config(tmp_path)
    store = tmp_path / "s.sqlite"
    readonly = sqlite3.OperationalError("attempt to write a readonly database")
    argv = ["run", str(cfg), "--store", str(store), "--quiet", "--threads", "1"]
    with monkeypatch.context() as patch:
        stop_at_call(patch, StoreClass, "put_counts", 3, readonly)
        assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"readonly database (store {store}); 2 of 3 images stored in {store}: mend that" in err
    assert "run the same command again to resume" in err
    assert main(argv) == 0
    stop_at_call(monkeypatch, StoreClass, "put_certificates", 1, readonly)
    assert main(["certify", str(store), "--alpha", "0.01", "--quiet"]) == 1
    assert f"readonly database (store {store})" in capsys.readouterr().err


def test_run_refuses_ray_arguments_without_the_ray_executor(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[run]\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\nn_test = 2\n'
        '[[noises]]\nfamily = "gaussian"\n'
    )
    assert main(["run", str(cfg), "--address", "auto", "--store", str(tmp_path / "s")]) == 2
    assert "--executor ray" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", str(cfg), "--executor", "dask"])


def test_disk_full_is_recognized_from_sqlite_and_the_system(tmp_path):
    import errno
    import sqlite3

    from harness.cli.run_command import disk_full

    db = sqlite3.connect(tmp_path / "full.sqlite")
    db.execute("CREATE TABLE t (b BLOB)")
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(sqlite3.OperationalError) as full:
        db.execute("INSERT INTO t VALUES (?)", (b"x" * 100_000,))
    db.close()
    assert disk_full(full.value)
    assert disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert not disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not disk_full(sqlite3.OperationalError("database is locked"))


def test_run_on_a_full_disk_keeps_what_is_stored_and_resumes(tmp_path, monkeypatch, capsys):
    """A store that cannot grow (SQLite's page limit on the writer's connection, set after
    the fifth image) stops the run part way with SQLite's own ``SQLITE_FULL``; the message
    says what the store holds and how to go on, and the same command, with room again,
    finishes the run from there."""
    from harness.store import Store as StoreClass

    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[run]\nname = "t"\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\n'
        'n_test = 80\nn0 = 10\nn = 100\n[[noises]]\nfamily = "gaussian"\n'
        '[certify]\ncertifiers = ["cohen"]\n'
    )
    store = tmp_path / "s.sqlite"
    argv = ["run", str(cfg), "--store", str(store), "--quiet", "--threads", "1"]
    put_counts = StoreClass.put_counts
    calls = []

    def filling(self, rows):
        calls.append(1)
        if len(calls) == 5:  # no page beyond those the store has now
            pages = self._db.execute("PRAGMA page_count").fetchone()[0]
            self._db.execute(f"PRAGMA max_page_count = {pages}")
        return put_counts(self, rows)

    monkeypatch.setattr(StoreClass, "put_counts", filling)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "database or disk is full" in err and "run the same command again to resume" in err
    stored = int(err.split(" of 80 images stored")[0].rsplit(" ", 1)[1])
    assert 5 <= stored < 80
    with Store(store, readonly=True) as st:
        assert len({i for _, _, i in st.done_keys()}) == stored

    monkeypatch.setattr(StoreClass, "put_counts", put_counts)
    assert main(argv) == 0
    with Store(store, readonly=True) as st:
        assert len({i for _, _, i in st.done_keys()}) == 80


def test_a_stopped_run_says_what_each_smoothed_model_holds(tmp_path):
    """Two smoothed models, one sampled on 5 of 10 images, the other on none: the message
    counts per model, not the images any model holds (it said 5 of 10 before)."""
    import numpy as np

    from harness.cli.run_command import _stored
    from harness.noise import Gaussian
    from tests.reports._report_synth import DIM, add_counts, new_store

    path = tmp_path / "s.sqlite"
    store = new_store(path, 10, {"a": 0.25, "b": 0.5})
    labels = np.arange(5) % 10
    add_counts(store, "a", Gaussian(0.25, DIM), labels, labels, [900] * 5)
    store.close()
    assert _stored(path) == f"5 of 10 images of a, 0 of 10 images of b stored in {path}"


def test_a_run_without_certification_stopped_after_sampling_says_it_had_finished(tmp_path):
    """A Ctrl-C while a Ray cluster shuts down after a --no-certify run has done all its
    work: the message says so (it said certification was unfinished)."""
    import numpy as np

    from harness.cli.run_command import _stored
    from harness.noise import Gaussian
    from tests.reports._report_synth import DIM, add_counts, new_store

    path = tmp_path / "s.sqlite"
    config = {"certify": {"certifiers": ["cohen"], "norms": ["l2"]}}
    store = new_store(path, 4, {"a": 0.25}, config=config)
    labels = np.arange(4) % 10
    add_counts(store, "a", Gaussian(0.25, DIM), labels, labels, [900] * 4)
    store.close()
    whole = f"the counts of all 4 images stored in {path}"
    assert _stored(path) == f"{whole}; certification is unfinished"
    assert _stored(path, certify=False) == f"{whole}; the run had finished its work"


def test_list_says_what_each_certifier_certifies(capsys):
    """The config's warning for an uncertified noise sends users to ``list``: every
    (family, norm) of a certifier's table is on its line, and nothing else."""
    import certifiers

    assert main(["list"]) == 0
    lines = {
        line.split()[0]: line.split(None, 1)[1]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("  ") and line.split()[0] in certifiers.available()
    }
    assert sorted(lines) == certifiers.available()
    for name, text in lines.items():
        cls = certifiers.CERTIFIERS.get(name)
        if certifiers.is_deterministic(cls):
            assert "input box" in text
            continue
        stated = {
            (family, norm)
            for part in text.split("; ")
            for family, norms in [part.split(": ")]
            for norm in norms.split(", ")
        }
        assert stated == set(cls.certificates), name


def test_a_model_trained_by_a_run_is_named_first(tmp_path, monkeypatch, capsys):
    """Training shows nothing where the output is not a terminal (a log, CI), for seconds
    to minutes: the run says which model it trains, and where it keeps it; a run whose
    models are cached says nothing of it, and --quiet says nothing."""
    monkeypatch.setenv("SMOOTHBENCH_CACHE", str(tmp_path / "cache"))
    cfg = _two_noise_config(tmp_path)
    argv = ["run", str(cfg), "--threads", "1"]
    assert main([*argv, "--store", str(tmp_path / "a.sqlite")]) == 0
    err = capsys.readouterr().err
    (line,) = [x for x in err.splitlines() if x.startswith("training ")]
    assert line.startswith("training digits-mlp-sigma0.5") and str(tmp_path / "cache") in line
    assert main([*argv, "--store", str(tmp_path / "b.sqlite")]) == 0
    assert "training " not in capsys.readouterr().err
    monkeypatch.setenv("SMOOTHBENCH_CACHE", str(tmp_path / "cache2"))
    assert main([*argv, "--store", str(tmp_path / "c.sqlite"), "--quiet"]) == 0
    assert "training " not in capsys.readouterr().err


def test_a_store_another_process_writes_is_refused_before_the_models(tmp_path, monkeypatch):
    """A second writer was refused only when it opened the store, after loading the data
    and training the models (minutes with real checkpoints); now before both."""
    from harness import runner
    from harness.config import load
    from harness.store import Store, StoreBusyError

    cfg = load(_two_noise_config(tmp_path))
    built = []
    monkeypatch.setattr(runner, "build_models", lambda *a, **k: built.append(1) or [])
    held = Store(tmp_path / "s.sqlite")  # another writer, as far as the lock can tell
    try:
        with pytest.raises(StoreBusyError, match="is being written by"):
            runner.run(cfg, tmp_path / "s.sqlite", progress=False)
    finally:
        held.close()
    assert built == []


def test_a_run_stopped_once_its_work_is_stored_says_it_had_finished(tmp_path, monkeypatch):
    """A Ctrl-C while the run closes (a Ray cluster shuts down for seconds) after it
    certified: the message said certification was unfinished. One during certification
    still says what is unfinished."""
    from harness import runner
    from harness.certify import CertificationInterrupted
    from harness.cli.run_command import _stored
    from harness.config import parse
    from harness.executors.base import Executor
    from harness.store import Store

    cfg = parse({
        "run": {"name": "t", "dataset": "digits", "seed": 1, "n_test": 2, "n0": 10, "n": 100},
        "models": [{"recipe": "mlp", "sigma0": 0.25}],
        "noises": [{"family": "gaussian"}],
        "certify": {"certifiers": ["cohen"], "norms": ["l2"], "alpha": [0.001, 0.01]},
    })  # fmt: skip
    path = tmp_path / "s.sqlite"

    def stopping(self):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(Executor, "close", stopping)
        with pytest.raises(runner.StoppedAfterItsWork) as stop:
            runner.run(cfg, path, progress=False)
    whole = f"the counts of all 2 images stored in {path}"
    assert _stored(path, stop.value) == f"{whole}; the run had finished its work"
    with Store(path) as st:  # one alpha's certificates gone, as a stop in certify leaves it
        st.query("DELETE FROM certificates WHERE alpha = 0.01")
    real = Store.put_certificates

    def stopped_in_certify(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "put_certificates", stopped_in_certify)
    with pytest.raises(CertificationInterrupted) as stop:
        runner.run(cfg, path, progress=False)
    assert not isinstance(stop.value, runner.StoppedAfterItsWork)
    assert "certification stopped after 0 of 1" in _stored(path, stop.value)
    monkeypatch.setattr(Store, "put_certificates", real)
    assert _stored(path, KeyboardInterrupt()) == f"{whole}; certification is unfinished"


_SMALL_RUN = {
    "run": {"name": "t", "dataset": "digits", "seed": 1, "n_test": 2, "n0": 10, "n": 100},
    "models": [{"recipe": "mlp", "sigma0": 0.25}],
    "noises": [{"family": "gaussian"}],
    "certify": {"certifiers": ["cohen"], "norms": ["l2"], "alpha": [0.001]},
}


def test_a_store_lost_on_close_is_not_told_as_a_run_that_finished(tmp_path, monkeypatch):
    """The store's close fails (the file was replaced while the run wrote it), then a
    Ctrl-C lands while the executor closes: the stop hid the error as work all stored."""
    from harness import runner
    from harness.config import parse
    from harness.executors.base import Executor
    from harness.store import Store, StoreError

    real_close, failed = Store.close, []

    def close_fails_once(self):
        real_close(self)
        if not failed:
            failed.append(self)
            raise StoreError(f"{self.path} was deleted or replaced while this command wrote it")

    def stopping(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "close", close_fails_once)
    monkeypatch.setattr(Executor, "close", stopping)
    with pytest.raises(KeyboardInterrupt) as raised:
        runner.run(parse(_SMALL_RUN), tmp_path / "s.sqlite", progress=False)
    assert failed and not isinstance(raised.value, runner.StoppedAfterItsWork)


def test_a_stop_while_rerunning_a_finished_run_says_it_had_finished(tmp_path, monkeypatch):
    """Ctrl-C while a complete store's run rebuilds its models: the message said that
    certification was unfinished."""
    from harness import runner
    from harness.cli.run_command import _stored
    from harness.config import parse

    path = tmp_path / "s.sqlite"
    runner.run(parse(_SMALL_RUN), path, progress=False)

    def stopping(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "build_models", stopping)
    with pytest.raises(KeyboardInterrupt) as stop:
        runner.run(parse(_SMALL_RUN), path, progress=False)
    assert _stored(path, stop.value).endswith("; the run had finished its work")
    with Store(path) as st:  # an image of a group certified no more
        st.query("DELETE FROM certificates WHERE image = (SELECT MIN(image) FROM counts)")
    assert _stored(path, stop.value).endswith("; certification is unfinished")
