"""An unfinished store is exported and certified as it is, and says so: ``export
cohen-tsv`` warns on stderr for each gap (images not sampled, certificate groups or images
not certified) and records it in ``index.json``; ``certify`` says why it writes nothing
(no counts; only deterministic certifiers; no certifier for the stored noises) and warns
when the sampling is unfinished. Synthetic stores (counts written directly) keep it fast."""

import json
import sqlite3

import numpy as np

from certifiers.bounds import DEFAULT_ALPHA
from harness.certificate_groups import expected_groups, missing_deterministic
from harness.certify import certify_store
from harness.cli import main
from harness.interop.exporting import write_cohen_tsv
from harness.noise import Gaussian, Laplace
from harness.sampling_progress import sampling_progress
from harness.store import Store
from tests.reports._report_synth import DIM, add_counts, count_rows, new_store

PLANNED = 8
CONFIG = {"certify": {"certifiers": ["cohen", "wulff"], "norms": ["l2"], "alpha": [0.001]}}
GAUSS, LAPLACE = Gaussian(0.25, DIM), Laplace(0.25, DIM)
# gaussian: cohen and wulff; laplace: wulff (cohen certifies Gaussian noise only)
FILES = 3


def _store(path, images=PLANNED, noises=(GAUSS, LAPLACE), certify=True):
    """One smoothed model sampled on the first ``images`` of ``PLANNED``, certified as the
    config asks when ``certify``."""
    store = new_store(path, PLANNED, {"m": 0.25}, config=CONFIG)
    labels = np.arange(images) % 10
    for noise in noises:
        add_counts(store, "m", noise, labels, labels, [990] * images)
    if certify:
        certify_store(store, ["cohen", "wulff"], ["l2"], [0.001], progress=False)
    store.close()
    return path


def _export(capsys, store, out):
    capsys.readouterr()
    assert main(["export", "cohen-tsv", str(store), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    index = json.loads((out / "index.json").read_text())
    warnings = [line for line in captured.err.splitlines() if line]
    assert all(line.startswith("smoothbench export: warning: ") for line in warnings)
    assert index["warnings"] == [line.split("warning: ", 1)[1] for line in warnings]
    return captured.out, warnings, index


def _delete(store, where):
    db = sqlite3.connect(store)
    with db:
        db.execute(f"DELETE FROM certificates WHERE {where}")
    db.close()


def test_a_complete_store_exports_without_a_warning(tmp_path, capsys):
    store = _store(tmp_path / "s.sqlite")
    out, warnings, index = _export(capsys, store, tmp_path / "tsv")
    assert warnings == [] and "incomplete" not in out
    assert index["complete"] is True
    assert index["images_planned"] == PLANNED and index["images_sampled"] == {"m": PLANNED}
    assert len(index["files"]) == FILES
    assert all(f["complete"] is True and f["images"] == PLANNED for f in index["files"])


def test_a_store_killed_while_sampling_is_exported_with_warnings(tmp_path, capsys):
    store = _store(tmp_path / "s.sqlite", images=3)
    out, warnings, index = _export(capsys, store, tmp_path / "tsv")
    assert "(incomplete" in out
    assert any("sampling incomplete: 3 of 8 images;" in w for w in warnings)
    assert any(
        "3 of 3 certified TSV files hold fewer than all of the run's 8" in w for w in warnings
    )
    assert index["complete"] is False
    assert index["images_planned"] == PLANNED and index["images_sampled"] == {"m": 3}
    assert len(index["files"]) == FILES  # what exists is written
    assert all(f["complete"] is False and f["images"] == f["rows"] == 3 for f in index["files"])
    assert len(list((tmp_path / "tsv").rglob("*.tsv"))) == FILES


def test_an_image_sampled_under_one_noise_only_is_not_counted(tmp_path):
    path = _store(tmp_path / "s.sqlite", images=3, certify=False)
    with Store(path) as store:  # image 3 under gaussian only: the run stopped mid-image
        store.put_counts(count_rows("m", GAUSS, range(4), range(4), [990] * 4)[3:])
        progress = sampling_progress(store)
    assert progress.planned == PLANNED and progress.sampled == {"m": 3}


def test_a_store_killed_while_certifying_names_the_missing_groups(tmp_path, capsys):
    store = _store(tmp_path / "s.sqlite")
    _delete(store, "noise LIKE 'laplace%'")  # certify_store writes one (model, noise) at a time
    out, warnings, index = _export(capsys, store, tmp_path / "tsv")
    assert len(warnings) == 1
    assert "certification incomplete: 1 (model, noise, certifier) groups" in warnings[0]
    assert "1 of 3 TSV files are missing" in warnings[0]
    assert f"m / {LAPLACE.name} / wulff" in warnings[0] and "smoothbench certify" in warnings[0]
    assert index["complete"] is False and len(index["files"]) == FILES - 1
    assert all(f["complete"] is True for f in index["files"])  # those written are whole


def test_a_file_lacking_images_is_marked(tmp_path, capsys):
    store = _store(tmp_path / "s.sqlite")
    _delete(store, "certifier = 'cohen' AND image >= 5")
    _, warnings, index = _export(capsys, store, tmp_path / "tsv")
    assert any("3 certificates of sampled images are missing" in w for w in warnings)
    assert any("1 of 3 certified TSV files hold fewer" in w for w in warnings)
    by_certifier = {f["certifier"] + f["noise"][:3]: f for f in index["files"]}
    assert by_certifier["cohengau"]["complete"] is False and by_certifier["cohengau"]["images"] == 5
    assert by_certifier["wulffgau"]["complete"] is True
    assert index["complete"] is False


def test_a_store_without_counts_exports_nothing_and_says_so(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    Store(store).close()
    _, warnings, index = _export(capsys, store, tmp_path / "tsv")
    assert warnings == [
        "smoothbench export: warning: the store holds no counts: no TSV file is written"
    ]
    assert index["complete"] is False and index["files"] == []
    assert index["images_planned"] is None


def test_expected_groups_follow_the_config_and_later_certificates(tmp_path):
    path = _store(tmp_path / "s.sqlite")
    configured = {
        ("m", GAUSS.name, "cohen", "l2", 0.001),
        ("m", GAUSS.name, "wulff", "l2", 0.001),
        ("m", LAPLACE.name, "wulff", "l2", 0.001),
    }
    with Store(path) as store:
        assert expected_groups(store) == configured
        # what a later certify adds, exactly: cohen at (l1, 0.01), no other (norm, alpha)
        # pair made up from the two, and no group of a certifier not run there
        certify_store(store, ["cohen"], ["l1"], [0.01], progress=False)
        assert expected_groups(store) == configured | {("m", GAUSS.name, "cohen", "l1", 0.01)}


def test_expected_groups_take_the_configs_alphas(tmp_path):
    config = {"certify": {"certifiers": ["cohen"], "norms": ["l2"], "alpha": [0.01, 0.05]}}
    store = new_store(tmp_path / "s.sqlite", 4, {"m": 0.25}, config=config)
    add_counts(store, "m", GAUSS, np.arange(4), np.arange(4), [990] * 4)
    assert expected_groups(store) == {("m", GAUSS.name, "cohen", "l2", a) for a in (0.01, 0.05)}
    store.close()


def test_a_store_without_a_config_expects_the_certify_defaults(tmp_path):
    """Counts written without a config (by the API): ``smoothbench certify``'s defaults."""
    store = new_store(tmp_path / "s.sqlite", 4, {"m": 0.25}, config=None)
    add_counts(store, "m", GAUSS, np.arange(4), np.arange(4), [990] * 4)
    groups = expected_groups(store)
    assert ("m", GAUSS.name, "cohen", "l2", DEFAULT_ALPHA) in groups
    assert {g[4] for g in groups} == {DEFAULT_ALPHA}
    store.close()


def test_missing_deterministic_certificates_follow_the_configured_norms(tmp_path):
    """``ibp`` certifies l-inf only: configured for l2 alone, nothing of it is missing."""
    for norms, missing in ((["l2"], {}), (["linf"], {("m", "ibp", "linf"): 4})):
        config = {"certify": {"certifiers": ["ibp"], "norms": norms}}
        store = new_store(tmp_path / f"{norms[0]}.sqlite", 4, {"m": 0.25}, config=config)
        assert missing_deterministic(store) == missing
        store.close()


# certify --------------------------------------------------------------------------------


def _certify(capsys, argv, code):
    capsys.readouterr()
    assert main(["certify", *argv, "--quiet"]) == code
    return capsys.readouterr()


def test_certify_without_counts_says_to_run_first(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    new_store(store, PLANNED, {"m": 0.25}, config=CONFIG).close()
    err = _certify(capsys, [str(store)], 2).err
    assert err.startswith("smoothbench certify: error: ") and len(err.splitlines()) == 1
    assert "holds no counts to certify" in err and "smoothbench run" in err


def test_certify_with_a_deterministic_certifier_says_run_makes_them(tmp_path, capsys):
    store = _store(tmp_path / "s.sqlite", certify=False)
    err = _certify(capsys, [str(store), "--certifier", "ibp"], 2).err
    assert "ibp is deterministic" in err and "smoothbench run" in err
    assert len(err.splitlines()) == 1
    with Store(store, readonly=True) as st:
        assert st.query("SELECT COUNT(*) FROM certificates")[0][0] == 0
    captured = _certify(capsys, [str(store), "--certifier", "ibp", "--certifier", "cohen"], 0)
    assert "warning: ibp is deterministic" in captured.err and "certify skips them" in captured.err
    assert f"wrote {PLANNED} certificates" in captured.out  # cohen, gaussian, l2


def test_certify_with_no_certifier_for_the_stored_noises_says_so(tmp_path, capsys):
    store = _store(tmp_path / "s.sqlite", noises=(LAPLACE,), certify=False)
    err = _certify(capsys, [str(store), "--certifier", "cohen"], 2).err
    assert "none of cohen certifies the stored noises" in err and LAPLACE.name in err


def test_certify_of_a_partial_store_warns_and_certifies_what_is_sampled(tmp_path, capsys):
    store = _store(tmp_path / "s.sqlite", images=3, certify=False)
    captured = _certify(capsys, [str(store)], 0)
    assert captured.err.startswith("smoothbench certify: warning: sampling incomplete: 3 of 8")
    assert "only the images sampled so far are certified" in captured.err
    assert "wrote 9 certificates" in captured.out  # 3 images x 3 (noise, certifier) groups
    captured = _certify(capsys, [str(_store(tmp_path / "full.sqlite", certify=False))], 0)
    assert captured.err == "" and f"wrote {3 * PLANNED} certificates" in captured.out


def test_imported_files_are_not_judged_against_the_run(tmp_path, capsys):
    """Rows imported from elsewhere chose their own images: ``complete`` is null."""
    store = _store(tmp_path / "s.sqlite")
    first = tmp_path / "first"
    with Store(store, readonly=True) as st:
        write_cohen_tsv(st, first)
    copy = tmp_path / "copy.sqlite"
    assert main(["import", "cohen-tsv", *map(str, first.rglob("*.tsv")), "--store", str(copy)]) == 0
    _, warnings, index = _export(capsys, copy, tmp_path / "again")
    assert warnings == [] and index["complete"] is True
    assert {f["origin"] for f in index["files"]} == {"imported"}
    assert all(f["complete"] is None and f["images"] == PLANNED for f in index["files"])


def test_deterministic_radii_are_left_in_the_store_and_the_export_says_so(tmp_path, capsys):
    """Cohen's format names a noise and an alpha, which ibp and crown have not: their
    radii are not exported, and the command counts them instead of staying silent."""
    store = _store(tmp_path / "s.sqlite")
    out, _, index = _export(capsys, store, tmp_path / "plain")
    assert "not exported" not in out
    db = sqlite3.connect(store)
    with db:
        db.executemany(
            "INSERT INTO deterministic_radii VALUES (?, ?, ?, 'linf', 0, 0, 0.01, 0.1)",
            [("m", i, cert) for cert, images in (("ibp", 3), ("crown", 2)) for i in range(images)],
        )
    db.close()
    out, warnings, index = _export(capsys, store, tmp_path / "with")
    assert "not exported: the deterministic radii (2 of crown, 3 of ibp)" in out
    assert warnings == [] and len(index["files"]) == FILES


def test_a_store_a_run_writes_now_is_said_to_be_in_progress_not_stopped(tmp_path, capsys):
    """Exported (or reported) while a run writes the store, its gap is that run's progress:
    the warning names the writer instead of telling the user to resume a run that was
    never stopped (crash audit); once the writer is gone, it says how to resume. Looking
    makes no lock file and writes none (review: a report wrote its own pid there)."""
    import subprocess
    import sys

    store = _store(tmp_path / "s.sqlite", images=3)
    lock = store.with_name(store.name + ".lock")
    lock.unlink(missing_ok=True)
    assert main(["export", "cohen-tsv", str(store), "--out", str(tmp_path / "a")]) == 0
    assert "`smoothbench run` with the same config and store resumes" in capsys.readouterr().err
    assert not lock.exists()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from harness.store import Store; "
         "s = Store(sys.argv[1]); print('open', flush=True); time.sleep(60)", str(store)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        written = lock.read_bytes()
        assert main(["export", "cohen-tsv", str(store), "--out", str(tmp_path / "b")]) == 0
        said = capsys.readouterr().err
        assert lock.read_bytes() == written
    finally:
        holder.kill()
        holder.wait()
    assert f"process {holder.pid} is writing this store now: its results so far" in said
    assert "resumes" not in said
