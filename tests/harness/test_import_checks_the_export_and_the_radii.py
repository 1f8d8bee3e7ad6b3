"""``import`` keeps what an export's ``index.json`` says about a file's certificates and
refuses what cannot be a certificate of the kind a file claims:

- the export's soundness verdict: a file found unsound (radii above the Gaussian
  optimum), or one the export could not check, was imported as a clean row, and its
  radii headed the leaderboards of the store it went into;
- the confidence a Monte Carlo certifier spends beyond alpha: dropped, so the imported
  rows stated a confidence of 1 - alpha they do not have;
- a radius no certificate of the file's certifier and noise reaches at any number of
  draws (Cohen's radius is sigma Phi^-1(p_lower) < 2.06 for sigma = 0.25): stored, and
  counted as certified at every radius;
- the embedded digits' training images, and labels the digits do not have: stored.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.special import ndtri

from baselines.datasets import load_digits
from harness.cli.export_command import soundness_of_groups
from harness.interop.exporting import write_cohen_tsv
from harness.interop.importing import ImportOptions, import_cohen_tsv, largest_radius
from harness.store import CertificateRow, CountRow, Store
from reports.tidy import load_leaderboard_outcomes
from tests.harness.test_interop import write_cohen

SIGMA = 0.25
NOISE = "gaussian(dim=64,sigma=0.25)"
SPEC = {"family": "gaussian", "params": {"dim": 64, "sigma": SIGMA}}
P_LOWER = 0.98


def _digits(count: int) -> list[tuple[int, int]]:
    """The first ``count`` test images of the digits, with their labels."""
    data = load_digits()
    return [(int(i), int(data.labels[i])) for i in data.test_indices[:count]]


def _at(label: int, count: int, total: int) -> np.ndarray:
    """Counts per class of the digits' 10: ``count`` of ``total`` draws of ``label``, the
    others of the next class."""
    out = np.zeros(10, dtype=np.int64)
    out[label], out[(label + 1) % 10] = count, total - count
    return out


def _store(path, certifier: str = "cohen", factor: float = 1.0, spent: float = 0.0) -> None:
    """A digits store whose six test images each hold ``factor`` times Cohen's radius
    at ``P_LOWER`` from ``certifier``, spending ``spent`` beyond alpha."""
    images = _digits(6)
    with Store(path) as st:
        st.put_manifest({"n0": 10, "n": 1000, "seed": 0, "dataset": "digits"})
        st.put_noises({NOISE: SPEC})
        st.put_counts(
            CountRow("m", NOISE, i, y, _at(y, 10, 10), _at(y, 995, 1000), 0.1) for i, y in images
        )
        radius = factor * SIGMA * float(ndtri(P_LOWER))
        st.put_certificates(
            CertificateRow("m", NOISE, i, certifier, "l2", 0.001, y, P_LOWER, radius, True, spent)
            for i, y in images
        )


def _export(tmp_path, gate: bool = True, **store):
    source = tmp_path / "source.sqlite"
    _store(source, **store)
    with Store.open_existing(source, readonly=True) as st:
        verdicts = soundness_of_groups(st) if gate else None
        return write_cohen_tsv(st, tmp_path / "export", soundness=verdicts)


def _import(tmp_path, paths, options=None) -> Store:
    store = Store(tmp_path / "imported.sqlite")
    try:
        import_cohen_tsv(store, paths, options)
    finally:
        store.close()
    return tmp_path / "imported.sqlite"


def _edit_index(tmp_path, **fields) -> None:
    index = tmp_path / "export" / "index.json"
    listing = json.loads(index.read_text())
    for entry in listing["files"]:
        entry.update(fields)
    index.write_text(json.dumps(listing))


def test_a_file_the_export_found_unsound_is_refused(tmp_path):
    export = _export(tmp_path, factor=2.0)  # twice Cohen's radius: above the optimum
    listing = json.loads((tmp_path / "export" / "index.json").read_text())
    assert listing["files"][0]["soundness"].startswith("unsound")
    with pytest.raises(ValueError, match="unsound"):
        _import(tmp_path, export.paths)
    assert load_leaderboard_outcomes(tmp_path / "imported.sqlite").empty


def test_a_file_the_export_could_not_check_is_refused_with_how_to_check_it(tmp_path):
    export = _export(tmp_path)
    _edit_index(tmp_path, soundness="unchecked: noise family 'plug' is not registered here")
    with pytest.raises(ValueError, match="could not check.*--plugin"):
        _import(tmp_path, export.paths)


@pytest.mark.parametrize("gate", [True, False], ids=["checked", "not-checked"])
def test_a_sound_file_or_one_of_an_export_without_the_gate_is_imported(tmp_path, gate):
    export = _export(tmp_path, gate=gate)
    rows = load_leaderboard_outcomes(_import(tmp_path, export.paths))
    assert len(rows) == 6 and (rows["kind"] == "imported").all()


def test_the_confidence_spent_beyond_alpha_survives_export_and_import(tmp_path):
    export = _export(tmp_path, certifier="functional", spent=0.05)
    listing = json.loads((tmp_path / "export" / "index.json").read_text())
    assert [e["confidence_spent"] for e in listing["files"]] == [0.05]
    path = _import(tmp_path, export.paths)
    rows = load_leaderboard_outcomes(path)
    assert len(rows) == 6 and (rows["confidence_spent"] == 0.05).all()
    # exported again from the imported store, the spend is still said
    with Store.open_existing(path, readonly=True) as st:
        write_cohen_tsv(st, tmp_path / "again")
    again = json.loads((tmp_path / "again" / "index.json").read_text())
    assert [e["confidence_spent"] for e in again["files"]] == [0.05]


def test_a_source_imported_again_without_a_spend_spends_none(tmp_path):
    export = _export(tmp_path, certifier="functional", spent=0.05)
    _import(tmp_path, export.paths)
    _edit_index(tmp_path, confidence_spent=0.0)
    rows = load_leaderboard_outcomes(_import(tmp_path, export.paths))
    assert len(rows) == 6 and (rows["confidence_spent"] == 0.0).all()


@pytest.mark.parametrize("value", [1.0, -0.1, "0.05", True, None])
def test_a_confidence_spent_that_is_no_probability_is_refused(tmp_path, value):
    export = _export(tmp_path)
    _edit_index(tmp_path, confidence_spent=value)
    with pytest.raises(ValueError, match="confidence_spent"):
        _import(tmp_path, export.paths)


def _cohen_layout_file(tmp_path, radius: float):
    path = tmp_path / "cifar10/resnet110/noise_0.25/test/sigma_0.25"
    return write_cohen(path, [(0, 3, 3, radius, 15.4), (20, 8, 8, 0.5, 15.4)])


def test_the_largest_radius_is_the_radius_as_p_lower_approaches_one():
    top = largest_radius("cohen", {"family": "gaussian", "params": {"dim": 3072, "sigma": SIGMA}},
                         "l2")  # fmt: skip
    assert top == pytest.approx(SIGMA * ndtri(np.nextafter(1.0, 0.0)), rel=1e-12)


# read as rounded to 3 digits: 2.05 is stored as 2.045, 2.06 as 2.055 (above 2.0524)
@pytest.mark.parametrize(("radius", "imported"), [(2.05, True), (2.06, False), (100.0, False)])
def test_a_radius_no_certificate_reaches_is_refused(tmp_path, radius, imported):
    path = _cohen_layout_file(tmp_path, radius)
    if imported:
        stored = load_leaderboard_outcomes(_import(tmp_path, [path]))
        assert stored["radius"].max() == pytest.approx(radius, rel=5e-3)  # read as rounded
    else:
        with pytest.raises(ValueError, match=r"certifies at most 2\.05"):
            _import(tmp_path, [path])


def _digits_file(tmp_path, rows):
    options = ImportOptions("m", "gaussian:sigma=0.25", "cohen", "l2", 0.001, "digits")
    return write_cohen(tmp_path / "d.tsv", rows), options


def test_digits_rows_name_test_images_with_their_labels(tmp_path):
    data = load_digits()
    train = int(data.train_indices[0])
    (image, label), (other, other_label) = _digits(2)
    cases = {
        "not a test image": [(train, int(data.labels[train]), 0, 0.1, 0.1)],
        f"is a {label}": [(image, (label + 1) % 10, 0, 0.1, 0.1)],
    }
    for said, rows in cases.items():
        path, options = _digits_file(tmp_path, rows)
        with pytest.raises(ValueError, match=said):
            _import(tmp_path, [path], options)
    path, options = _digits_file(
        tmp_path, [(image, label, label, 0.1, 0.1), (other, other_label, -1, 0.0, 0.1)]
    )
    assert len(load_leaderboard_outcomes(_import(tmp_path, [path], options))) == 2


def test_a_radius_is_bounded_under_a_stored_noise_named_by_its_name(tmp_path):
    """``--noise`` may name a noise the store holds by its stored name (no spec comes with
    the file): the stored spec bounds its radii."""
    path = _import(tmp_path, [_cohen_layout_file(tmp_path, 0.5)])  # stores the noise
    plain = write_cohen(tmp_path / "plain.tsv", [(0, 3, 3, 100.0, 15.4)])
    options = ImportOptions(
        "other", "gaussian(dim=3072,sigma=0.25)", "cohen", "l2", 0.001, "cifar10"
    )
    with Store(path) as st, pytest.raises(ValueError, match="certifies at most"):
        import_cohen_tsv(st, [plain], options)


def test_the_spend_is_kept_per_imported_group_not_per_path(tmp_path):
    """One path imported under two models, first holding a file that spends 0.05, then
    one that spends nothing: the first model's rows keep their 0.05."""
    export = _export(tmp_path, certifier="functional", spent=0.05)
    store = tmp_path / "imported.sqlite"
    with Store(store) as st:
        import_cohen_tsv(st, export.paths, ImportOptions(model="first"))
    (tmp_path / "source.sqlite").unlink()
    again = _export(tmp_path, certifier="functional", spent=0.0)
    assert again.paths == export.paths
    with Store(store) as st:
        import_cohen_tsv(st, again.paths, ImportOptions(model="second"))
    rows = load_leaderboard_outcomes(store)
    spent = rows.groupby("model")["confidence_spent"].unique()
    assert list(spent["first"]) == [0.05] and list(spent["second"]) == [0.0]


def test_a_file_no_export_describes_spends_what_its_certifier_spends(tmp_path):
    """A plain TSV of a Monte Carlo certifier (``functional`` on the mixed l2/l-inf noise
    spends its table's ``mc_alpha``) states that spend, not 0."""
    import certifiers
    from harness.noise import from_spec

    plain = write_cohen(tmp_path / "plain.tsv", [(0, 3, 3, 0.01, 15.4)])
    options = ImportOptions("m", "mixed_norm:k=4,sigma=0.25", "functional", "linf", 0.001,
                            "cifar10")  # fmt: skip
    path = _import(tmp_path, [plain], options)
    with Store.open_existing(path, readonly=True) as st:
        (spec,) = st.noise_specs().values()
    expected = certifiers.get("functional").confidence_spent(from_spec(spec), "linf")
    rows = load_leaderboard_outcomes(path)
    assert expected > 0 and list(rows["confidence_spent"]) == [expected]
