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
