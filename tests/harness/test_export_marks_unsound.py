"""``smoothbench export`` runs the report's soundness gate first: the files of a
certifier whose radii are too large carry ``soundness: "unsound: ..."`` in index.json, and
the export warns (on stderr and in index.json); a sound certifier's files say
``"checked"``; a noise family not registered here leaves its files ``"unchecked: ..."``.
The radii exported are those stored either way: the mark travels with them."""

from __future__ import annotations

import json

import numpy as np

from certifiers.base import Certifier
from harness.certify import certify_store
from harness.cli import main
from harness.noise import Laplace
from tests.reports._report_synth import ALPHA, DIM, add_counts, new_store


class TooLargeLaplace(Certifier):
    """Teng et al.'s Laplace l1 radius -b ln(2(1 - p)), exact for an axis shift, times
    1.05: at p_A = 0.7 the worst case after an axis shift of it is below 1/2 in closed
    form, 1 - (1 - p) exp(r / b) = 0.47 (the shift moves the atom z_1 >= r first)."""

    factor = 1.05

    def supports(self, noise, norm):
        return isinstance(noise, Laplace) and norm == "l1"

    def _radius(self, noise, p, norm):
        return self.factor * -noise.scale * np.log(2.0 * (1.0 - p))


def test_the_export_marks_an_unsound_certifiers_files(tmp_path, plugins, capsys):
    p, factor = 0.7, TooLargeLaplace.factor
    assert 1.0 - (1.0 - p) * (2.0 * (1.0 - p)) ** -factor < 0.49  # unsound, independently
    plugins.certifier("test-too-large", TooLargeLaplace)
    plugins.certifier("test-exact-laplace", type("Exact", (TooLargeLaplace,), {"factor": 1.0}))
    store = new_store(tmp_path / "s.sqlite", 60, {"m": 0.25})
    labels = np.arange(60) % 10
    add_counts(store, "m", Laplace.matched(0.25, DIM), labels, labels, np.linspace(600, 830, 60))
    certify_store(store, ["test-exact-laplace", "test-too-large"], ["l1"], [ALPHA], progress=False)
    store.close()
    assert (
        main(["export", "cohen-tsv", str(tmp_path / "s.sqlite"), "--out", str(tmp_path / "tsv")])
        == 0
    )
    err = capsys.readouterr().err
    index = json.loads((tmp_path / "tsv" / "index.json").read_text())
    verdicts = {entry["certifier"]: entry["soundness"] for entry in index["files"]}
    assert verdicts["test-exact-laplace"] == "checked"
    assert verdicts["test-too-large"].startswith("unsound: ")
    assert any(w.startswith("certifier test-too-large: unsound") for w in index["warnings"])
    assert "warning: certifier test-too-large: unsound" in err
    assert "test-exact-laplace" not in " ".join(index["warnings"])


def test_a_noise_family_not_registered_here_leaves_its_files_unchecked(tmp_path, capsys):
    from harness.noise import Gaussian

    store = new_store(tmp_path / "s.sqlite", 20, {"m": 0.25})
    labels = np.arange(20) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, np.full(20, 900))
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    spec = {"family": "gone_family", "params": {"sigma": 0.25, "dim": DIM}}
    store.query("UPDATE noises SET spec = ?", (json.dumps(spec),))
    store.close()
    assert (
        main(["export", "cohen-tsv", str(tmp_path / "s.sqlite"), "--out", str(tmp_path / "tsv")])
        == 0
    )
    index = json.loads((tmp_path / "tsv" / "index.json").read_text())
    (entry,) = index["files"]
    assert entry["soundness"].startswith("unchecked: ") and "gone_family" in entry["soundness"]
    assert "certifier cohen: unchecked" in capsys.readouterr().err


class Absurd(Certifier):
    """A radius of 1000 noise scales at every p_A > 1/2 (false for any law)."""

    def supports(self, noise, norm):
        from harness.noise import PowInf

        return isinstance(noise, PowInf) and norm == "l1"

    def _radius(self, noise, p, norm):
        return 1000.0 * noise.scale * np.ones_like(p)


def test_a_file_the_gate_could_not_check_is_not_called_checked(tmp_path, plugins, capsys):
    """Every shift of a full-dimensional law at d = 4,000 is beyond the gate's budget: its
    files say "not checked: ..." and the export warns; a store whose radii are all 0 says
    "nothing to check" without a warning; ``--no-soundness`` leaves null and warns
    (review: such files said "checked")."""
    from harness.noise import PowInf
    from reports.sanity.soundness import MAX_BUDGET, MIN_SAMPLES

    dim = 4_000
    assert MIN_SAMPLES * dim > MAX_BUDGET
    plugins.certifier("test-absurd", Absurd)
    store = new_store(tmp_path / "s.sqlite", 20, {"m": 0.25})
    labels = np.arange(20) % 10
    add_counts(store, "m", PowInf.matched(0.25, dim, a=dim + 8.0), labels, labels, np.full(20, 990))
    certify_store(store, ["test-absurd"], ["l1"], [ALPHA], progress=False)
    store.close()
    out = tmp_path / "tsv"
    assert main(["export", "cohen-tsv", str(tmp_path / "s.sqlite"), "--out", str(out)]) == 0
    (entry,) = json.loads((out / "index.json").read_text())["files"]
    assert entry["soundness"].startswith("not checked: ")
    assert "warning: certifier test-absurd: not checked" in capsys.readouterr().err

    assert (
        main(
            ["export", "cohen-tsv", str(tmp_path / "s.sqlite"), "--out", str(out), "--no-soundness"]
        )
        == 0
    )
    index = json.loads((out / "index.json").read_text())
    assert index["files"][0]["soundness"] is None
    assert index["warnings"][0].startswith("soundness not checked by this export")

    store = new_store(tmp_path / "zero.sqlite", 20, {"m": 0.25})
    add_counts(store, "m", Laplace.matched(0.25, DIM), labels, labels, np.full(20, 400))
    certify_store(store, ["wulff"], ["l1"], [ALPHA], progress=False)  # p_A < 1/2: all 0
    store.close()
    capsys.readouterr()
    assert (
        main(["export", "cohen-tsv", str(tmp_path / "zero.sqlite"), "--out", str(tmp_path / "z")])
        == 0
    )
    (entry,) = json.loads((tmp_path / "z" / "index.json").read_text())["files"]
    assert entry["soundness"] == "nothing to check: no positive radius"
    assert "certifier wulff" not in capsys.readouterr().err
