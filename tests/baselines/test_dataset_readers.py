"""What the dataset readers record and how they preprocess.

* CIFAR-10's ``checksum`` is the md5 of the test batch file read (``Dataset.checksum``'s
  comment), so two different batches are two different datasets in the store.
* ImageNet images are resized to 256 and centre-cropped to 224, as Cohen et al.'s
  ``datasets.py`` does (``transforms.Resize(256)``, ``transforms.CenterCrop(224)``,
  ``transforms.ToTensor()``); the reference below is written with torchvision's
  functional transforms on the JPEG opened by PIL, and must be deterministic.
* Digits: scikit-learn's pixels are integers 0..16 (``load_digits``' docs), scaled to
  [0, 1] by 16, and the split is stratified 80/20 (the docstring).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from baselines.datasets import load_cifar10, load_digits, load_imagenet
from tests.baselines.fake_data import write_fake_cifar10, write_fake_imagenet_val


def test_cifar10_checksum_is_the_md5_of_the_batch_read(tmp_path):
    sums = []
    for seed in (0, 1):
        root = tmp_path / f"r{seed}"
        write_fake_cifar10(root, n=4, seed=seed)
        with pytest.warns(UserWarning, match="not the official"):
            ds = load_cifar10(str(root))
        raw = (root / "cifar-10-batches-py" / "test_batch").read_bytes()
        assert ds.checksum == "md5:" + hashlib.md5(raw, usedforsecurity=False).hexdigest()
        sums.append(ds.checksum)
    assert sums[0] != sums[1]


def test_imagenet_images_are_resized_to_256_and_centre_cropped(tmp_path):
    from PIL import Image
    from torchvision.transforms import functional as TF

    write_fake_imagenet_val(tmp_path, {0: 1, 5: 1})
    with pytest.warns(UserWarning):
        ds = load_imagenet(str(tmp_path))
    files = sorted(Path(tmp_path, "val").glob("*/*.JPEG"))
    for i, f in enumerate(files):
        with Image.open(f) as im:
            ref = TF.to_tensor(TF.center_crop(TF.resize(im.convert("RGB"), 256), 224))
        x, _ = ds[i]
        torch.testing.assert_close(x, ref, rtol=0, atol=0)
        torch.testing.assert_close(ds[i][0], x, rtol=0, atol=0)  # no random crop


def test_digits_pixels_are_sklearns_over_16_and_the_split_is_stratified():
    from sklearn.datasets import load_digits as sk

    bunch = sk()
    ds = load_digits()
    assert float(ds.images.max()) == 1.0 and float(ds.images.min()) == 0.0
    np.testing.assert_array_equal(ds.images.squeeze(1).numpy() * 16, bunch.images)
    counts = np.bincount(bunch.target)
    test_counts = np.bincount(bunch.target[ds.test_indices], minlength=10)
    assert len(ds.test_indices) == int(np.ceil(0.2 * len(bunch.target)))
    assert (np.abs(test_counts - 0.2 * counts) <= 1).all()  # stratified


@pytest.mark.parametrize("stride", [1, 3, 20])
def test_select_indices_picks_test_images_by_their_dataset_index(stride):
    """Digits' test images are a stratified subset of the 1797 (not 0..359): the run's
    images are every stride-th *test* image, named by its index in the dataset, never a
    training image."""
    from baselines.datasets import select_indices

    data = load_digits()
    test = sorted(int(i) for i in data.test_indices)
    chosen = select_indices(data, stride, 10)
    assert chosen == test[::stride][:10]
    assert not set(chosen) & {int(i) for i in data.train_indices}


class _Payload:
    """A pickle that, when loaded, creates a folder: code run by reading a data file."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        import os

        return (os.mkdir, (self.target,))


def test_a_data_file_that_names_a_function_does_not_run_it(tmp_path):
    import pickle

    from baselines.datasets import DatasetError

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    marker = tmp_path / "ran"
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({"data": _Payload(str(marker)), "labels": [1]}, fh, protocol=2)
    with pytest.raises(DatasetError, match="may not load posix.mkdir|may not load os.mkdir"):
        load_cifar10(str(tmp_path))
    assert not marker.exists()


def test_a_label_outside_the_ten_classes_is_refused(tmp_path):
    import pickle

    from baselines.datasets import DatasetError

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    data = np.zeros((2, 3072), dtype=np.uint8)
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({"data": data, "labels": [9, 10]}, fh, protocol=2)
    with pytest.raises(DatasetError, match="labels outside 0..9"):
        load_cifar10(str(tmp_path))


def test_the_content_hash_covers_each_images_index():
    """``content_sha256``: "for each index its number": two selections of identical
    images (a blank image, one label) under other indices are other data to a resumed
    run, whose outcomes are stored by index."""
    from baselines.datasets import Dataset, content_sha256

    blank = Dataset("digits", 10, (1, 8, 8), np.arange(0), np.arange(6),
                    lambda i: (torch.zeros(1, 8, 8), 3))  # fmt: skip
    assert content_sha256(blank, [0, 1]) != content_sha256(blank, [2, 3])
