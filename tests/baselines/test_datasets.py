"""Datasets from disk: CIFAR-10 in torchvision's layout, ImageNet validation as an
ImageFolder, errors that name the config key, Cohen et al.'s index subsets."""

import numpy as np
import pytest
import torch

from baselines.datasets import (
    Dataset,
    DatasetError,
    load_cifar10,
    load_dataset,
    load_imagenet,
    named_subset,
    select_indices,
)
from tests.baselines.fake_data import write_fake_cifar10, write_fake_imagenet_val


def test_cifar10_reads_torchvisions_python_batch(tmp_path):
    data, labels = write_fake_cifar10(tmp_path, n=30)
    with pytest.warns(UserWarning, match="not the official CIFAR-10 test batch"):
        ds = load_cifar10(str(tmp_path))
    assert ds.name == "cifar10" and ds.input_shape == (3, 32, 32) and ds.dim == 3072
    assert list(ds.test_indices) == list(range(30))
    for i in (0, 17, 29):
        x, y = ds[i]
        assert x.dtype == torch.float32 and x.shape == (3, 32, 32)
        np.testing.assert_array_equal((x * 255).round().to(torch.uint8).numpy(), data[i])
        assert y == labels[i]
    assert ds.checksum.startswith("md5:") and len(ds.checksum) == 36
    assert "not the official CIFAR-10 test batch" in ds.caveat
    assert load_dataset("digits").caveat is None


def test_cifar10_pixels_are_torchvisions(tmp_path):
    """The same [0, 1] tensor as torchvision's ToTensor of the HWC image it stores."""
    from PIL import Image
    from torchvision.transforms.functional import to_tensor

    data, _ = write_fake_cifar10(tmp_path, n=3)
    with pytest.warns(UserWarning):
        ds = load_cifar10(str(tmp_path))
    image = Image.fromarray(data[2].transpose(1, 2, 0))  # torchvision keeps N x 32 x 32 x 3
    torch.testing.assert_close(ds[2][0], to_tensor(image), rtol=0, atol=0)


def test_missing_cifar10_says_what_the_folder_must_hold(tmp_path):
    with pytest.raises(DatasetError) as err:
        load_dataset("cifar10", str(tmp_path / "nothing"))
    text = str(err.value)
    assert "run.data_root" in text and "cifar-10-batches-py/test_batch" in text
    assert "run.download = true" in text
    with pytest.raises(DatasetError, match="run.data_root"):
        load_dataset("cifar10")


def test_a_foreign_pickle_in_place_of_the_batch_is_refused_without_running_it(tmp_path):
    import pickle

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({"data": Dataset, "labels": [1]}, fh)  # names a class: not data
    with pytest.raises(DatasetError, match="not a CIFAR-10 python batch"):
        load_cifar10(str(tmp_path))


def _rewrite_batch(root, **changes):
    import pickle

    path = root / "cifar-10-batches-py" / "test_batch"
    with open(path, "rb") as fh:
        batch = pickle.load(fh, encoding="latin1")
    batch.update(changes)
    with open(path, "wb") as fh:
        pickle.dump(batch, fh, protocol=2)


@pytest.mark.parametrize(
    "change,says",
    [
        # channels last, as torchvision's CIFAR10(...).data holds them: same values, reshaped
        (lambda d, y: {"data": d.transpose(0, 2, 3, 1).copy()}, "shape (12, 32, 32, 3)"),
        (lambda d, y: {"data": d.reshape(12, 3072) / 255.0}, "dtype float64"),
        (lambda d, y: {"data": d.reshape(12, 3072).astype(np.int16)}, "dtype int16"),
        (lambda d, y: {"labels": [v + 0.5 for v in y]}, "'labels' of shape (12,) and dtype float"),
        (lambda d, y: {"labels": list(y[:-1])}, "holds 11 labels for 12 images"),
    ],
    ids=["channels-last", "floats", "int16", "float-labels", "a-label-short"],
)
def test_a_batch_in_another_layout_is_refused_not_read_as_other_images(tmp_path, change, says):
    data, labels = write_fake_cifar10(tmp_path, n=12)
    _rewrite_batch(tmp_path, **change(data, labels))
    with pytest.raises(DatasetError) as err:
        load_cifar10(str(tmp_path))
    assert "run.data_root" in str(err.value) and says in str(err.value)


def test_only_cifar10_can_be_downloaded(tmp_path):
    with pytest.raises(DatasetError, match="run.download"):
        load_dataset("imagenet", str(tmp_path), download=True)


def test_imagenet_val_as_an_image_folder(tmp_path):
    wnids = write_fake_imagenet_val(tmp_path, {0: 1, 3: 2})
    with pytest.warns(UserWarning, match="holds 3 images, not the 50,000 .*cohen2019"):
        ds = load_imagenet(str(tmp_path))
    assert ds.num_classes == 1000 and len(ds.test_indices) == 3
    assert "holds 3 images, not the 50,000" in ds.caveat  # recorded, for the report
    labels = [ds[i][1] for i in range(3)]
    assert labels == [0, 3, 3]  # sorted wnids give the class indices
    x, _ = ds[1]
    assert x.shape == (3, 224, 224) and 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert wnids == sorted(wnids)


def test_imagenet_errors_name_the_key_and_the_layout(tmp_path):
    with pytest.raises(DatasetError, match="run.data_root.*val/<wnid>/<image>.JPEG"):
        load_imagenet(str(tmp_path))
    write_fake_imagenet_val(tmp_path, {0: 1}, classes=10)
    with pytest.raises(DatasetError, match="10 class folders, not 1000"):
        load_imagenet(str(tmp_path))


def test_imagenet_class_folders_must_be_imagenet_1ks_wordnet_ids(tmp_path):
    """Labels are the sorted folders' order: folders named otherwise (by class name, say)
    would give every image another label than the models' and load without a word."""
    val = tmp_path / "val"
    wnids = write_fake_imagenet_val(tmp_path, {0: 1})
    (val / wnids[1]).rename(val / "goldfish")
    with pytest.raises(DatasetError, match="1 class folders of .* not named by WordNet id"):
        load_imagenet(str(tmp_path))
    (val / "goldfish").rename(val / wnids[1])
    (val / wnids[-1]).rename(val / "n15075142")
    with pytest.raises(DatasetError, match="run from n01440764 to n15075142, not n01440764"):
        load_imagenet(str(tmp_path))


def fake(name: str, size: int) -> Dataset:
    return Dataset(name, 10, (3, 32, 32), np.array([], dtype=np.int64), np.arange(size), None)


@pytest.mark.parametrize(
    "dataset,size,stride", [("cifar10", 10_000, 20), ("imagenet", 50_000, 100)]
)
def test_cohens_subsets(dataset, size, stride):
    subset = named_subset(dataset, "cohen2019")
    assert (subset.stride, subset.count) == (stride, 500)
    chosen = select_indices(fake(dataset, size), subset.stride, subset.count)
    assert chosen == [i for i in range(size) if i % stride == 0]  # certify.py --skip
    assert len(chosen) == 500
    with pytest.raises(ValueError, match="known"):
        named_subset(dataset, "cohen2020")


def test_content_hash_covers_pixels_labels_and_order():
    from dataclasses import replace

    from baselines.datasets import content_sha256, load_digits

    data = load_digits()
    indices = [int(i) for i in data.test_indices[:5]]
    digest = content_sha256(data, indices)
    assert digest.startswith("sha256:") and digest == content_sha256(load_digits(), indices)
    assert content_sha256(data, indices[::-1]) != digest

    def changed(pixel: bool):
        def get(i):
            x, y = data[i]
            if i == indices[2]:
                if pixel:
                    x = x.clone()
                    x.view(-1)[17] += 2.0**-20  # one pixel, by less than 1/255
                else:
                    y = (y + 1) % 10
            return x, y

        return replace(data, get=get)

    assert content_sha256(changed(pixel=True), indices) != digest
    assert content_sha256(changed(pixel=False), indices) != digest


@pytest.mark.filterwarnings("ignore:.* holds 2 images, not the 50,000")
def test_an_image_folder_rewritten_in_place_changes_the_content_hash(tmp_path):
    from PIL import Image

    from baselines.datasets import content_sha256

    wnids = write_fake_imagenet_val(tmp_path, {0: 1, 3: 1}, classes=1000)
    before = content_sha256(load_imagenet(str(tmp_path)), [0, 1])
    (path,) = (tmp_path / "val" / wnids[3]).iterdir()
    pixels = np.asarray(Image.open(path)).copy()
    pixels[100:140, 100:140] = 255 - pixels[100:140, 100:140]
    Image.fromarray(pixels).save(path)  # same name, new pixels
    after = load_imagenet(str(tmp_path))
    assert content_sha256(after, [0]) == content_sha256(load_imagenet(str(tmp_path)), [0])
    assert content_sha256(after, [0, 1]) != before


def test_the_stated_classes_and_images_are_the_datasets():
    """``CLASSES`` and ``IMAGES`` bound what an import may say; digits' are read from its
    loader, ImageNet's images are the validation set the loader checks for."""
    from baselines.datasets import CLASSES, IMAGENET_CLASSES, IMAGES, INPUT_SHAPES, load_digits
    from smoothbench.official_data import IMAGENET_VAL_IMAGES

    digits = load_digits()
    assert IMAGES["digits"] == len(digits.labels) and CLASSES["digits"] == digits.num_classes
    assert CLASSES["digits"] == len(set(digits.labels.tolist()))
    assert IMAGES["imagenet"] == IMAGENET_VAL_IMAGES and CLASSES["imagenet"] == IMAGENET_CLASSES
    assert set(CLASSES) == set(IMAGES) == set(INPUT_SHAPES)
