"""Reports of deterministic certifiers (ibp, crown): on their own, a leaderboard with no
reference comparisons and no alpha warning; beside Monte Carlo rows, never the reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.cli import main
from harness.sampling_progress import SamplingProgress
from harness.store import DeterministicRadiusRow, Store
from reports.cli import make_report
from reports.completeness import sampling_warnings
from tests.reports._report_synth import N_CLASSES, new_store, winner_store

N_IMAGES = 20
DET_MODEL = "m-det"


def _det_rows(model: str, certifier: str, shift: float) -> list[DeterministicRadiusRow]:
    labels = np.arange(N_IMAGES) % N_CLASSES
    return [
        DeterministicRadiusRow(
            model,
            i,
            certifier,
            "linf",
            int(lab),
            int(lab) if i % 5 else int((lab + 1) % N_CLASSES),  # every fifth image wrong
            0.01 * (i % 7) + shift,
            0.001,
        )  # fmt: skip
        for i, lab in enumerate(labels)
    ]


def _put_deterministic(store, model: str) -> None:
    rows = _det_rows(model, "ibp", 0.0) + _det_rows(model, "crown", 0.005)
    store.put_deterministic([], rows)


def _deterministic_store(
    path: Path, reference: str = "cohen", alphas: tuple[float, ...] = (0.001,)
) -> Path:
    """A run of one model with ``smoothing = false``: ibp and crown radii, no counts."""
    config = {"certify": {"alpha": list(alphas)}, "report": {"reference": reference}}
    store = new_store(path, N_IMAGES, {}, config=config)
    store.put_manifest(
        {"models": {DET_MODEL: {"sha256": "0" * 64, "sigma0": None, "smoothing": False}}}
    )
    _put_deterministic(store, DET_MODEL)
    store.close()
    return path


@pytest.fixture(scope="module")
def det_store(tmp_path_factory) -> Path:
    return _deterministic_store(tmp_path_factory.mktemp("det") / "det.sqlite")


@pytest.fixture(scope="module")
def mixed_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("mixed") / "mixed.sqlite"
    store = winner_store(path, n_images=N_IMAGES)
    _put_deterministic(store, "m-win")
    store.close()
    return path


def test_a_deterministic_only_store_gets_a_leaderboard(det_store, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(["report", str(det_store), "--out", str(out), "--format", "md", "csv", "plots"]) == 0
    )
    printed = capsys.readouterr().out
    assert "WARNING" not in printed
    table = pd.read_csv(out / "leaderboard.csv")
    assert sorted(table["certifiers"]) == ["crown", "ibp"]
    assert set(table["kind"]) == {"deterministic"}
    assert set(table["norm"]) == {"linf"} and set(table["alpha"]) == {0.001}
    md = (out / "leaderboard.md").read_text()
    assert "## synthetic, linf, alpha = 0.001" in md
    assert "| crown" in md and "| ibp" in md
    assert "nan" not in md.lower()
    assert "Warning" not in md and "certified after the run" not in md
    assert "no reference comparisons" in md
    assert "no reference row." in md and "reference cohen" not in md
    assert "No check ran: 9 skipped (nothing in the store for them)." in md
    # the plot's caption: no reference row, and no draws whose reach would be marked
    assert "rows (the best by ACR)." in md and "Triangles" not in md


def test_the_report_object_of_a_deterministic_only_store(det_store):
    report, headlines = make_report(det_store)
    assert len(report.boards) == 1 and len(headlines) == 1
    board = report.boards[0]
    assert (board.norm, board.alpha) == ("linf", 0.001)
    assert sorted(c for r in board.rows for c in r.certifiers) == ["crown", "ibp"]
    assert report.warnings == []
    assert not any(np.isnan(report.outcomes["alpha"]))


@pytest.mark.parametrize("reference", ["ibp", "crown"])
def test_a_deterministic_reference_on_a_deterministic_only_store(
    det_store, tmp_path, capsys, reference
):
    out = tmp_path / "out"
    args = ["report", str(det_store), "--out", str(out), "--format", "md"]
    assert main([*args, "--reference", reference]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    # the sanity checks never ask the deterministic certifier for a Monte Carlo radius
    assert f"= {reference} on Gaussian" not in captured.out
    md = (out / "leaderboard.md").read_text()
    assert "| crown" in md and "| ibp" in md and "nan" not in md.lower()


def test_a_deterministic_reference_in_the_config_of_a_deterministic_only_store(tmp_path):
    path = _deterministic_store(tmp_path / "d.sqlite", reference="ibp")
    report, _ = make_report(path)
    assert len(report.boards) == 1 and report.warnings == []


def test_the_config_alpha_places_the_rows_when_no_monte_carlo_alpha_exists(tmp_path):
    path = _deterministic_store(tmp_path / "a.sqlite", alphas=(0.05, 0.01))
    report, _ = make_report(path)
    assert [b.alpha for b in report.boards] == [0.01, 0.05]
    assert report.warnings == []


@pytest.mark.parametrize("reference", ["ibp", "crown"])
def test_a_deterministic_reference_beside_monte_carlo_rows_names_one_to_use(
    mixed_store, tmp_path, capsys, reference
):
    args = ["report", str(mixed_store), "--out", str(tmp_path / "o"), "--format", "md"]
    assert main([*args, "--reference", reference]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert f"--reference {reference!r}: a deterministic certifier" in err
    assert "use a Monte Carlo certifier such as 'cohen'" in err
    assert "(in this store: cohen)" in err
    assert not (tmp_path / "o").exists()  # refused before anything is written


def test_a_deterministic_reference_in_the_config_beside_monte_carlo_rows(tmp_path, capsys):
    path = tmp_path / "m.sqlite"
    store = winner_store(path, n_images=N_IMAGES)
    store.put_manifest({"config": {"report": {"reference": "crown"}}})
    _put_deterministic(store, "m-win")
    store.close()
    assert main(["report", str(path), "--out", str(tmp_path / "o"), "--format", "md"]) == 2
    err = capsys.readouterr().err
    assert "config key 'report.reference' = 'crown': a deterministic certifier" in err
    assert "such as 'cohen'" in err and "--reference" in err


def test_mixed_store_keeps_its_deterministic_rows(mixed_store):
    report, _ = make_report(mixed_store)
    linf = [b for b in report.boards if b.norm == "linf"]
    assert len(linf) == 1 and linf[0].alpha == 0.001
    assert sorted(c for r in linf[0].rows for c in r.certifiers) == ["crown", "ibp"]
    assert report.warnings == []


def test_no_alpha_is_not_an_alpha_other_than_the_configs():
    manifest = {"config": {"certify": {"alpha": [0.001]}}}
    outcomes = pd.DataFrame(
        {"model": ["m", "m"], "noise": ["none", "none"], "image": [0, 1], "alpha": [np.nan, 0.001]}
    )
    complete = SamplingProgress(None, {})
    assert sampling_warnings(manifest, complete, pd.DataFrame(), outcomes) == []
    outcomes.loc[1, "alpha"] = 0.01
    (warning,) = sampling_warnings(manifest, complete, pd.DataFrame(), outcomes)
    assert warning.startswith("alpha = 0.01 certified after the run")


def test_only_the_deterministic_rows_of_a_mixed_store(mixed_store, tmp_path):
    out = tmp_path / "out"
    args = ["report", str(mixed_store), "--out", str(out), "--format", "csv"]
    assert main([*args, "--certifier", "ibp", "crown"]) == 0
    table = pd.read_csv(out / "leaderboard.csv")
    assert sorted(table["certifiers"]) == ["crown", "ibp"]


def test_the_sanity_caption_counts_skipped_checks_apart():
    from types import SimpleNamespace

    from reports.sanity import FAIL, PASS, SKIPPED
    from reports.view import _sanity_caption

    def results(*statuses):
        return [SimpleNamespace(status=s) for s in statuses]

    assert _sanity_caption(results(PASS, PASS, FAIL)) == "2 of the 3 checks that ran passed."
    assert (
        _sanity_caption(results(PASS, SKIPPED, FAIL))
        == "1 of the 2 checks that ran passed; 1 skipped (nothing in the store for it)."
    )
    assert _sanity_caption(results(SKIPPED, SKIPPED)) == (
        "No check ran: 2 skipped (nothing in the store for them)."
    )


def test_a_stopped_deterministic_phase_is_warned_about_with_how_to_resume(tmp_path, capsys):
    """A run stopped while ibp and crown certified its second model: the report and
    ``certify`` say which (model, certifier) lack how many images, and that only the run
    resumes it; a (model, certifier) the run skipped is not missing."""
    path = _deterministic_store(tmp_path / "det.sqlite")
    store = Store(path)
    models = {"sha256": "1" * 64, "sigma0": None, "smoothing": False}
    store.put_manifest({"models": {**store.get_manifest("models"), "m-late": models}})
    store.put_deterministic([], _det_rows("m-late", "ibp", 0.0)[:3])
    store.close()
    report, _ = make_report(path)
    (line,) = [w for w in report.warnings if w.startswith("deterministic certification")]
    assert f"crown on m-late (linf): {N_IMAGES} image(s); ibp on m-late (linf): " in line
    assert f"ibp on m-late (linf): {N_IMAGES - 3} image(s) without" in line
    assert "`smoothbench run` with the same config and store resumes it" in line
    assert DET_MODEL not in line
    store = Store(path)
    store.put_manifest({"deterministic_skipped": {"m-late": {"crown": "unsupported layer"}}})
    store.put_deterministic([], _det_rows("m-late", "ibp", 0.0))
    store.close()
    assert not [w for w in make_report(path)[0].warnings if "deterministic" in w]


def test_a_headline_among_smoothing_rows_says_it_leaves_the_deterministic_ones_to_the_table(
    tmp_path,
):
    """Beside smoothing rows the headline compares smoothing rows only; it says so, and
    that ibp and crown bound the base network, where it once called its pick "the best
    row overall" above a better crown row."""
    from harness.certify import certify_store

    path = tmp_path / "both.sqlite"
    store = winner_store(path, n_images=N_IMAGES)
    certify_store(store, ["cohen"], ["linf"], [0.001], progress=False)
    _put_deterministic(store, "m-win")
    store.close()
    report, headlines = make_report(path)
    (linf,) = [h for h in headlines if "linf" in h.board]
    assert linf.row.kind == "smoothing" and linf.other.kind == "smoothing"
    scope = dict(linf.lines())["Scope"]
    assert "the rows of crown, ibp (which bound the base network itself" in scope
    (l2,) = [h for h in headlines if "l2" in h.board]
    assert "Scope" not in dict(l2.lines())  # no deterministic row on that board


def test_an_unknown_reference_beside_monte_carlo_rows_is_offered_only_those(
    mixed_store, tmp_path, capsys
):
    """The deterministic certifiers were offered too, and refused when chosen."""
    args = ["report", str(mixed_store), "--out", str(tmp_path / "o"), "--format", "md"]
    assert main([*args, "--reference", "nope"]) == 2
    err = capsys.readouterr().err
    assert "reported: ['cohen']" in err and "ibp" not in err and "crown" not in err, err


def test_deterministic_rows_say_their_proofs_are_about_exact_arithmetic(det_store, mixed_store):
    """An IBP or CROWN radius is a proof about the network in exact arithmetic, not about
    a float32 model's own rounding (a float32 ``Linear`` certified on the whole cube ties
    its logits at a quarter of it): a leaderboard with such rows says so, one without does
    not."""
    for path in (det_store, mixed_store):
        report, _ = make_report(path)
        (note,) = [n for b in report.boards for n in b.notes if "exact arithmetic" in n]
        assert note.startswith("crown, ibp: proofs about the network in exact arithmetic")
        assert "float32" in note
    monte_carlo_only = winner_store(mixed_store.parent / "mc.sqlite", n_images=N_IMAGES)
    monte_carlo_only.close()
    report, _ = make_report(mixed_store.parent / "mc.sqlite")
    assert not any("exact arithmetic" in n for b in report.boards for n in b.notes)
