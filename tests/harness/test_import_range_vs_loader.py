"""The loaders accept a CIFAR-10 test batch or an ImageNet folder other than the official
one (with a caveat), of any size: the import's bound on image indices (``IMAGES``) gives
way to the images a store holds, and to a store run on another copy of the test set
(review: a store holding image 10,000 could not take its own rows back)."""

import pickle
import warnings

import numpy as np

from baselines.datasets import load_cifar10
from harness.cli import main
from harness.store import CountRow, Store
from tests.harness.test_interop import write_cohen


def test_images_the_loader_gives_and_the_store_holds_can_be_imported(tmp_path, capsys):
    root = tmp_path / "data" / "cifar-10-batches-py"
    root.mkdir(parents=True)
    n = 10_001
    batch = {"data": np.zeros((n, 3072), np.uint8), "labels": [4] * n}
    (root / "test_batch").write_bytes(pickle.dumps(batch))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        data = load_cifar10(str(tmp_path / "data"))
    assert data.caveat and len(data.test_indices) == n and data[10_000][1] == 4  # accepted

    store_path = tmp_path / "s.sqlite"
    with Store(store_path) as store:
        store.put_manifest(
            {"dataset": "cifar10"}, noises={"g": {"family": "gaussian", "sigma": 0.5}}
        )
        store.put_counts(
            [
                CountRow(
                    "m",
                    "g",
                    10_000,
                    4,
                    np.array([0, 0, 0, 0, 5, 0, 0, 0, 0, 0]),
                    np.array([0, 0, 0, 0, 9, 1, 0, 0, 0, 0]),
                    1.0,
                )
            ]
        )
    path = write_cohen(tmp_path / "f" / "results.tsv", [(10_000, 4, 4, 0.5, 1.0)])
    argv = [
        "import",
        "cohen-tsv",
        str(path),
        "--store",
        str(store_path),
        "--model",
        "m2",
        "--noise",
        "gaussian:sigma=0.5",
        "--certifier",
        "cohen",
        "--norm",
        "l2",
        "--alpha",
        "0.001",
    ]
    rc = main(argv)
    assert rc == 0, capsys.readouterr().err


def test_a_store_run_on_another_copy_takes_indices_past_the_official_count(tmp_path, capsys):
    store_path = tmp_path / "s.sqlite"
    with Store(store_path) as store:
        store.put_manifest({"dataset": "cifar10", "data_caveat": "another copy of the test set"})
    path = write_cohen(tmp_path / "f" / "results.tsv", [(12_345, 4, 4, 0.5, 1.0)])
    argv = ["import", "cohen-tsv", str(path), "--store", str(store_path), "--model", "m",
            "--noise", "gaussian:sigma=0.5", "--certifier", "cohen", "--norm", "l2",
            "--alpha", "0.001"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
