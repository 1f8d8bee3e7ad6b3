"""Datasets. The embedded default is scikit-learn's bundled 8x8 digits: no download.

Every dataset yields images as float32 tensors in [0, 1] (the space noise is added in
and radii are measured in, as in Cohen et al.), integer labels, and a fixed, recorded
split. CIFAR-10 and ImageNet are read from local torchvision folders (never downloaded)
and loaded lazily, one test image at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

DIGITS_SPLIT_SEED = 20200101
DIGITS_TEST_FRACTION = 0.2


@dataclass(frozen=True)
class Dataset:
    name: str
    num_classes: int
    input_shape: tuple[int, ...]
    train_indices: np.ndarray
    test_indices: np.ndarray
    get: Callable[[int], tuple[torch.Tensor, int]]
    #: Whole-set tensors, for datasets small enough to train on here (digits).
    images: torch.Tensor | None = None
    labels: torch.Tensor | None = None

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """Image ``index`` (float32 in [0, 1], shape ``input_shape``) and its label."""
        return self.get(int(index))

    @property
    def dim(self) -> int:
        return int(np.prod(self.input_shape))


def load_digits() -> Dataset:
    """The 1797 8x8 digits of scikit-learn (pixels 0..16 scaled to [0, 1]), 1x8x8.

    Split: a stratified 80/20 split with a fixed seed; indices refer to the order of
    ``sklearn.datasets.load_digits``.
    """
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_load_digits()
    images = torch.from_numpy(bunch.images.astype(np.float32) / 16.0).unsqueeze(1)
    labels = torch.from_numpy(bunch.target.astype(np.int64))
    train, test = train_test_split(
        np.arange(len(labels)),
        test_size=DIGITS_TEST_FRACTION,
        random_state=DIGITS_SPLIT_SEED,
        stratify=bunch.target,
    )
    return Dataset(
        "digits", 10, (1, 8, 8), np.sort(train), np.sort(test),
        lambda i: (images[i], int(labels[i])), images, labels,
    )  # fmt: skip


def load_cifar10(root: str) -> Dataset:
    """The CIFAR-10 test set (10,000 images, 3x32x32) from a local torchvision folder."""
    import torchvision

    test = torchvision.datasets.CIFAR10(root=root, train=False, download=False)

    def get(i: int) -> tuple[torch.Tensor, int]:
        x = torch.from_numpy(test.data[i]).permute(2, 0, 1).float().div_(255.0)
        return x, int(test.targets[i])

    return Dataset(
        "cifar10", 10, (3, 32, 32), np.array([], dtype=np.int64), np.arange(len(test)), get
    )


def load_imagenet(root: str) -> Dataset:
    """ImageNet validation images from ``root/val`` (an ImageFolder), resized to 256 and
    centre-cropped to 224 as in Cohen et al. (2019); 3x224x224 in [0, 1]."""
    import torchvision
    from torchvision import transforms

    tf = transforms.Compose(
        [transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()]
    )
    val = torchvision.datasets.ImageFolder(f"{root}/val", transform=tf)

    def get(i: int) -> tuple[torch.Tensor, int]:
        x, y = val[i]
        return x, int(y)

    return Dataset(
        "imagenet", 1000, (3, 224, 224), np.array([], dtype=np.int64), np.arange(len(val)), get
    )


LOADERS: dict[str, Callable[..., Dataset]] = {
    "digits": lambda root=None: load_digits(),
    "cifar10": load_cifar10,
    "imagenet": load_imagenet,
}


def load_dataset(name: str, root: str | None = None) -> Dataset:
    if name not in LOADERS:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(LOADERS)}")
    if name != "digits" and root is None:
        raise ValueError(f"dataset {name!r} needs 'run.data_root' (a local torchvision folder)")
    return LOADERS[name](root)


def select_indices(data: Dataset, index_stride: int, n_test: int) -> list[int]:
    """The test images of a run: every ``index_stride``-th test image, ``n_test`` of them
    (Cohen et al. certify every 20th CIFAR-10 and every 100th ImageNet image)."""
    chosen = data.test_indices[::index_stride][:n_test]
    if len(chosen) < n_test:
        raise ValueError(
            f"config key 'run.n_test' is {n_test} but {data.name} has only "
            f"{len(chosen)} test images at index_stride {index_stride}"
        )
    return [int(i) for i in chosen]
