"""``smoothbench import``: every option given is what is stored, and every file given
is imported."""

from __future__ import annotations

from baselines.datasets import load_digits
from harness.cli import main
from reports.tidy import load_imported_outcomes
from tests.harness.test_interop import ROWS, write_cohen


def test_the_options_given_are_what_is_stored(tmp_path, capsys):
    # a layout that says nothing: every field comes from the options
    path = write_cohen(tmp_path / "flat" / "results.tsv", ROWS)
    store = tmp_path / "s.sqlite"
    argv = ["import", "cohen-tsv", str(path), "--store", str(store),
            "--model", "mine", "--noise", "gaussian:sigma=0.5", "--certifier", "wulff",
            "--norm", "l1", "--alpha", "0.01", "--dataset", "cifar10"]  # fmt: skip
    assert main(argv) == 0
    df = load_imported_outcomes(store)
    assert sorted(df["image"]) == sorted(r[0] for r in ROWS)
    assert set(df["model"]) == {"mine"} and set(df["certifier"]) == {"wulff"}
    assert set(df["norm"]) == {"l1"} and set(df["alpha"]) == {0.01}
    assert set(df["dataset"]) == {"cifar10"}
    assert set(df["noise"]) == {"gaussian(dim=3072,sigma=0.5)"}  # cifar10's dimension
    assert f"imported {len(ROWS)} rows" in capsys.readouterr().out


def test_every_file_given_is_imported_with_the_options(tmp_path, capsys):
    root = tmp_path / "data/certify/cifar10/resnet110"
    first = write_cohen(root / "noise_0.25/test/sigma_0.25", ROWS[:5])
    second = write_cohen(root / "noise_0.50/test/sigma_0.50", ROWS[5:])
    store = tmp_path / "s.sqlite"
    argv = ["import", "cohen-tsv", str(first), str(second), "--store", str(store),
            "--norm", "l1", "--alpha", "0.01"]  # fmt: skip
    assert main(argv) == 0
    df = load_imported_outcomes(store)
    assert len(df) == len(ROWS) and df["model"].nunique() == 2
    assert set(df["norm"]) == {"l1"} and set(df["alpha"]) == {0.01}
    assert f"imported {len(ROWS)} rows" in capsys.readouterr().out


def test_a_refused_import_leaves_no_new_store_and_keeps_an_old_one(tmp_path, capsys):
    """A file that cannot be imported (here: absent) is refused with nothing left behind
    where no store was (neither the file nor its lock); an existing store keeps its rows."""
    store = tmp_path / "new" / "s.sqlite"
    argv = ["import", "cohen-tsv", str(tmp_path / "missing.tsv"), "--store", str(store)]
    assert main(argv) == 2
    assert "missing.tsv" in capsys.readouterr().err
    assert list((tmp_path / "new").iterdir()) == []
    path = write_cohen(tmp_path / "flat" / "results.tsv", ROWS)
    kept = ["import", "cohen-tsv", str(path), "--store", str(store), "--model", "m",
            "--noise", "gaussian:sigma=0.5", "--certifier", "cohen", "--norm", "l2",
            "--alpha", "0.001", "--dataset", "cifar10"]  # fmt: skip
    assert main(kept) == 0
    assert main(argv) == 2
    assert len(load_imported_outcomes(store)) == len(ROWS)


def test_an_imported_abstention_counts_as_one_in_the_report(tmp_path):
    """Cohen et al.'s ``predict = -1`` is an abstention: the report's abstain rate of the
    imported row is the share of such lines, and those images are certified nowhere."""
    from reports.cli import make_report

    path = write_cohen(tmp_path / "data/certify/cifar10/resnet110/noise_0.25/test/sigma_0.25", ROWS)
    store = tmp_path / "s.sqlite"
    assert main(["import", "cohen-tsv", str(path), "--store", str(store)]) == 0
    report, _ = make_report(store)
    table = report.leaderboard()
    (row,) = table[table["kind"] == "imported"].to_dict("records")
    abstentions = sum(1 for r in ROWS if r[2] == -1)
    assert abstentions >= 1
    assert row["abstain"] == abstentions / len(ROWS)
    outcomes = report.outcomes[report.outcomes["kind"] == "imported"]
    assert set(outcomes.loc[outcomes["abstained"], "image"]) == {r[0] for r in ROWS if r[2] == -1}


def test_labels_and_indices_the_dataset_cannot_have_are_refused(tmp_path, capsys):
    """A file of another dataset imported under this one's name (Ray/crash audit: label 99
    and image 100,000 went into a digits store, exit 0): each dataset's classes and number
    of images (digits' 1,797 of scikit-learn, CIFAR-10's 10,000 test images, ImageNet's
    50,000 validation images, 1,000 classes) bound what a row may say. Nothing is stored."""
    cases = [
        ("digits", (3, 10, 10, 0.5, 1.0), "digits has 10 classes"),  # label 10
        ("digits", (3, 4, 12, 0.5, 1.0), "digits has 10 classes"),  # prediction 12
        ("digits", (1797, 4, 4, 0.5, 1.0), "digits has 1,797 images"),
        ("cifar10", (10_000, 4, 4, 0.5, 1.0), "cifar10 has 10,000 images"),
        ("imagenet", (7, 1000, 1000, 0.5, 1.0), "imagenet has 1000 classes"),
        ("imagenet", (50_000, 4, 4, 0.5, 1.0), "imagenet has 50,000 images"),
    ]
    for k, (dataset, bad, said) in enumerate(cases):
        path = write_cohen(tmp_path / f"f{k}" / "results.tsv", [ROWS[1], bad])
        store = tmp_path / f"s{k}.sqlite"
        argv = ["import", "cohen-tsv", str(path), "--store", str(store), "--model", "m",
                "--noise", "gaussian:sigma=0.5", "--certifier", "cohen", "--norm", "l2",
                "--alpha", "0.001", "--dataset", dataset]  # fmt: skip
        assert main(argv) == 2, dataset
        assert said in capsys.readouterr().err
        assert not store.exists() or load_imported_outcomes(store).empty
    digits = load_digits()
    top, first = int(digits.test_indices[-1]), int(digits.test_indices[0])
    label = int(digits.labels[top])  # the last test image; an abstention
    last = [(top, label, label, 0.5, 1.0), (first, int(digits.labels[first]), -1, 0.0, 1.0)]
    path = write_cohen(tmp_path / "ok" / "results.tsv", last)
    argv = ["import", "cohen-tsv", str(path), "--store", str(tmp_path / "ok.sqlite"),
            "--model", "m", "--noise", "gaussian:sigma=0.5", "--certifier", "cohen",
            "--norm", "l2", "--alpha", "0.001", "--dataset", "digits"]  # fmt: skip
    assert main(argv) == 0


def test_model_and_certifier_names_follow_the_registrys_rule(tmp_path, capsys):
    """An imported certifier's name follows a registered one's rule
    (``smoothbench.safe_names``: reports write it into Markdown tables, HTML, LaTeX and
    plot labels, so it holds no markup); a model's, a run's (which may be its checkpoint
    file's name, spaces and all): not empty, not padded, one line."""
    store = tmp_path / "s.sqlite"
    flat = write_cohen(tmp_path / "flat" / "results.tsv", ROWS)
    base = ["import", "cohen-tsv", str(flat), "--store", str(store), "--noise",
            "gaussian:sigma=0.5", "--norm", "l2", "--alpha", "0.001",
            "--dataset", "cifar10"]  # fmt: skip
    given = {"--model": "mine", "--certifier": "cohen"}
    refused = {
        "--model": (" x", "x ", "", "a\nb"),
        "--certifier": (" x", "x ", "", "a\nb", "a|b", "$x$", "<b>", "*x*"),
    }
    for option, names in refused.items():
        for name in names:
            argv = [*base, *(w for k, v in {**given, option: name}.items() for w in (k, v))]
            assert main(argv) == 2
            err = capsys.readouterr().err
            assert f"{option[2:]} name {name!r}" in err and f"give {option} NAME" in err, err
    assert not store.exists()
    assert main([*base, "--model", "My Net (v2)", "--certifier", "σ-certifier (v2)"]) == 0
