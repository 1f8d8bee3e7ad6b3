"""Datasets. The embedded default is scikit-learn's bundled 8x8 digits: no download.

Every dataset returns images as float32 tensors in [0, 1] (the space noise is added
in and radii are measured in, as in Cohen et al.), integer labels, and a fixed,
recorded train/test split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

DIGITS_SPLIT_SEED = 20200101
DIGITS_TEST_FRACTION = 0.2


@dataclass(frozen=True)
class Dataset:
    name: str
    images: torch.Tensor  # (N, *shape), float32 in [0, 1]
    labels: torch.Tensor  # (N,), int64
    train_indices: np.ndarray
    test_indices: np.ndarray
    num_classes: int

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape[1:])

    @property
    def dim(self) -> int:
        return int(np.prod(self.input_shape))


def load_digits() -> Dataset:
    """The 1797 8x8 digits of scikit-learn (pixels 0..16 scaled to [0, 1]).

    Split: a stratified 80/20 split with a fixed seed; indices refer to the order of
    ``sklearn.datasets.load_digits``.
    """
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_load_digits()
    images = torch.from_numpy(bunch.images.astype(np.float32) / 16.0).unsqueeze(1)
    labels = torch.from_numpy(bunch.target.astype(np.int64))
    all_idx = np.arange(len(labels))
    train, test = train_test_split(
        all_idx,
        test_size=DIGITS_TEST_FRACTION,
        random_state=DIGITS_SPLIT_SEED,
        stratify=bunch.target,
    )
    return Dataset("digits", images, labels, np.sort(train), np.sort(test), 10)


def load_torchvision(name: str, root: str) -> Dataset:
    """CIFAR-10 test set from a local torchvision folder (no download is attempted)."""
    import torchvision

    if name != "cifar10":
        raise ValueError(f"unknown torchvision dataset {name!r}; known: ['cifar10']")
    test = torchvision.datasets.CIFAR10(root=root, train=False, download=False)
    images = torch.from_numpy(test.data).permute(0, 3, 1, 2).float().div_(255.0)
    labels = torch.tensor(test.targets, dtype=torch.int64)
    idx = np.arange(len(labels))
    return Dataset("cifar10", images, labels, np.array([], dtype=np.int64), idx, 10)


DATASETS = ("digits", "cifar10")


def load_dataset(name: str, root: str | None = None) -> Dataset:
    if name == "digits":
        return load_digits()
    if name == "cifar10":
        if root is None:
            raise ValueError("dataset 'cifar10' needs run.data_root (a local torchvision folder)")
        return load_torchvision(name, root)
    raise ValueError(f"unknown dataset {name!r}; known: {list(DATASETS)}")
