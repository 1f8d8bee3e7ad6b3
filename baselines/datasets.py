"""Datasets. The embedded default is scikit-learn's bundled 8x8 digits: no download.

Every dataset yields images as float32 tensors in [0, 1] (the space noise is added in
and radii are measured in, as in Cohen et al.), integer labels, and a fixed, recorded
split. CIFAR-10 (its test batch, in torchvision's folder layout) and the ImageNet
validation set (an ImageFolder) are read from local folders, never downloaded unless the
config says ``download = true`` (CIFAR-10 only); errors name the config key and what the
folder must hold. Named index subsets (``SUBSETS``) fix the test images of a run, e.g.
Cohen et al.'s every 20th CIFAR-10 and every 100th ImageNet image.
"""

from __future__ import annotations

import hashlib
import pickle
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from smoothbench.names import choices, unknown_name
from smoothbench.official_data import CIFAR10_TEST_MD5, IMAGENET_VAL_IMAGES

#: The datasets whose training set this package holds in memory, so that a recipe can be
#: trained here; CIFAR-10 and ImageNet runs take checkpoints.
TRAINABLE_HERE = ("digits",)

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
    #: A digest of the data files read (CIFAR-10: md5 of the test batch), for the store.
    checksum: str | None = None
    #: Why results on these data are not comparable with published ones (another copy
    #: of the test set), or None: recorded in the store, stated beside published numbers.
    caveat: str | None = None

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


#: The shape of one input of each dataset (without reading it).
INPUT_SHAPES: dict[str, tuple[int, ...]] = {
    "digits": (1, 8, 8),
    "cifar10": (3, 32, 32),
    "imagenet": (3, 224, 224),
}

#: Classes and images of each dataset (the index space of its images): digits' 1797,
#: CIFAR-10's test batch, ImageNet's validation set.
CLASSES: dict[str, int] = {"digits": 10, "cifar10": 10, "imagenet": 1000}
IMAGES: dict[str, int] = {"digits": 1797, "cifar10": 10_000, "imagenet": IMAGENET_VAL_IMAGES}

CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_TEST_FILE = "test_batch"
IMAGENET_CLASSES = CLASSES["imagenet"]
#: The first and last WordNet ids of ImageNet-1k's classes, sorted.
IMAGENET_WNID_ENDS = ("n01440764", "n15075141")
_WNID = re.compile(r"n\d{8}")


class DatasetError(ValueError):
    """Data that cannot be read; the message names the config key and what it must hold."""


class DownloadError(OSError):
    """A download that failed (no network, say); the message says how to do without it.
    Its ``filename`` is the folder it was writing into (so that it is not taken for a
    write elsewhere), which its text leaves to the message."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class _ArrayUnpickler(pickle.Unpickler):
    """Reads the pickled dicts of numpy arrays that CIFAR-10's python files are, and
    nothing else: no other global can be loaded, so reading a data file runs no code."""

    _ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
    }

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"a data file may not load {module}.{name}")
        module = module.replace("numpy.core.", "numpy._core.")
        return super().find_class(module, name)


def _file_md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_cifar10(root: str, download: bool = False) -> Dataset:
    """The CIFAR-10 test set (10,000 images, 3x32x32) from a local torchvision folder:
    ``root/cifar-10-batches-py/test_batch`` (the python version, as torchvision extracts
    it). With ``download``, torchvision downloads and checks the archive first.

    A test batch other than the official one (md5 ``CIFAR10_TEST_MD5``) is read with a
    warning: its results are not comparable with published numbers. Its md5 is the
    dataset's ``checksum``, recorded in the store either way.
    """
    folder = Path(root) / CIFAR10_FOLDER
    if download:
        import torchvision

        try:
            torchvision.datasets.CIFAR10(root=root, train=False, download=True)
        except (OSError, RuntimeError) as err:  # no network (URLError), a damaged archive
            failure = DownloadError(
                f"downloading CIFAR-10 into {root} failed ({type(err).__name__}: {err}); "
                "without a network, fetch cifar-10-python.tar.gz on another machine "
                "(https://www.cs.toronto.edu/~kriz/cifar.html), extract it into "
                f"{root} (it then holds {CIFAR10_FOLDER}/{CIFAR10_TEST_FILE}) and set "
                "'run.download = false'"
            )
            failure.filename = str(root)
            raise failure from err
    path = folder / CIFAR10_TEST_FILE
    if not path.is_file():
        raise DatasetError(
            f"config key 'run.data_root' is {root!r}, but {path} does not exist: the folder "
            f"must hold {CIFAR10_FOLDER}/{CIFAR10_TEST_FILE} (the python version of CIFAR-10, "
            "as torchvision extracts cifar-10-python.tar.gz); set 'run.download = true' to "
            "let torchvision download it there"
        )
    try:
        with open(path, "rb") as fh:
            batch = _ArrayUnpickler(fh, encoding="latin1").load()
        data, labels = np.asarray(batch["data"]), np.asarray(batch["labels"])
    except (pickle.UnpicklingError, KeyError, ValueError, TypeError, EOFError) as err:
        raise DatasetError(
            f"config key 'run.data_root': {path} is not a CIFAR-10 python batch "
            f"(a pickled dict with 'data', N x 3072 uint8, and 'labels'): {err}"
        ) from None
    # another layout (N x 32 x 32 x 3, channels last) or values (floats in [0, 1]) would
    # reshape and cast without an error into other images
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DatasetError(
            f"config key 'run.data_root': {path} holds 'data' of shape {data.shape} and "
            f"dtype {data.dtype}; a CIFAR-10 python batch holds N x 3072 uint8 (each row "
            "the red, green and blue planes of one 32 x 32 image)"
        )
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DatasetError(
            f"config key 'run.data_root': {path} holds 'labels' of shape {labels.shape} and "
            f"dtype {labels.dtype}; a CIFAR-10 python batch holds a list of N class indices"
        )
    if len(labels) != len(data):
        raise DatasetError(
            f"config key 'run.data_root': {path} holds {len(labels)} labels for {len(data)} images"
        )
    if not ((labels >= 0) & (labels < 10)).all():
        raise DatasetError(f"config key 'run.data_root': {path} has labels outside 0..9")
    data, labels = data.reshape(-1, 3, 32, 32), labels.astype(np.int64)
    checksum = _file_md5(path)
    caveat = None
    if checksum != CIFAR10_TEST_MD5:
        caveat = (
            f"{path} is not the official CIFAR-10 test batch (md5 {checksum}, expected "
            f"{CIFAR10_TEST_MD5}); its results are not comparable with published ones"
        )
        warnings.warn(caveat, stacklevel=2)
    images = torch.from_numpy(data)

    def get(i: int) -> tuple[torch.Tensor, int]:
        return images[i].float().div_(255.0), int(labels[i])

    return Dataset(
        "cifar10", 10, (3, 32, 32), np.array([], dtype=np.int64), np.arange(len(labels)), get,
        checksum=f"md5:{checksum}", caveat=caveat,
    )  # fmt: skip


def load_imagenet(root: str) -> Dataset:
    """ImageNet validation images from ``root/val`` (an ImageFolder: one folder per class,
    named by its WordNet id, 1000 of them, so that sorted folder names give the standard
    class indices), resized to 256 and centre-cropped to 224 as in Cohen et al. (2019);
    3x224x224 in [0, 1], not normalized (the model normalizes)."""
    import torchvision
    from torchvision import transforms

    val = Path(root) / "val"
    must_hold = (
        f"it must hold val/<wnid>/<image>.JPEG, one folder per class ({IMAGENET_CLASSES}, "
        "named n01440764 ... n15075141); a flat val/ folder must first be sorted into its "
        "class folders"
    )
    if not val.is_dir():
        raise DatasetError(
            f"config key 'run.data_root' is {root!r}, but {val} is missing: {must_hold}"
        )
    classes = sorted(p.name for p in val.iterdir() if p.is_dir())
    if len(classes) != IMAGENET_CLASSES:
        raise DatasetError(
            f"config key 'run.data_root': {val} has {len(classes)} class folders, not "
            f"{IMAGENET_CLASSES}: {must_hold}"
        )
    _check_wnids(val, classes, must_hold)
    tf = transforms.Compose(
        [transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()]
    )
    folder = torchvision.datasets.ImageFolder(str(val), transform=tf, allow_empty=True)
    if not len(folder):
        raise DatasetError(f"config key 'run.data_root': {val} holds no images: {must_hold}")

    caveat = None
    if len(folder) != IMAGENET_VAL_IMAGES:
        caveat = (
            f"{val} holds {len(folder)} images, not the {IMAGENET_VAL_IMAGES:,} of the ImageNet "
            "validation set: image indices, and so every stride-th image of a subset "
            "(cohen2019: Cohen et al.'s every 100th), then name other images than theirs"
        )
        warnings.warn(caveat, stacklevel=2)

    def get(i: int) -> tuple[torch.Tensor, int]:
        x, y = folder[i]
        return x, int(y)

    return Dataset(
        "imagenet", IMAGENET_CLASSES, (3, 224, 224), np.array([], dtype=np.int64),
        np.arange(len(folder)), get, caveat=caveat,
    )  # fmt: skip


def _check_wnids(val: Path, classes: list[str], must_hold: str) -> None:
    """Class folders named by the WordNet ids of ImageNet-1k, which sorted give the
    standard class indices; any other names would give every label another index."""
    odd = [c for c in classes if not _WNID.fullmatch(c)]
    if odd:
        raise DatasetError(
            f"config key 'run.data_root': {len(odd)} class folders of {val} are not named by "
            f"WordNet id (e.g. {odd[:3]}); labels are the folders' sorted order, so other "
            f"names would give the images other labels than the models': {must_hold}"
        )
    if (classes[0], classes[-1]) != IMAGENET_WNID_ENDS:
        raise DatasetError(
            f"config key 'run.data_root': the class folders of {val} run from {classes[0]} "
            f"to {classes[-1]}, not {IMAGENET_WNID_ENDS[0]} to {IMAGENET_WNID_ENDS[1]} as "
            f"ImageNet-1k's do: {must_hold}"
        )


LOADERS: dict[str, Callable[..., Dataset]] = {
    "digits": lambda root=None, download=False: load_digits(),
    "cifar10": load_cifar10,
    "imagenet": lambda root, download=False: load_imagenet(root),
}


def load_dataset(name: str, root: str | None = None, download: bool = False) -> Dataset:
    """Dataset ``name`` from ``root`` (``run.data_root``); only CIFAR-10 can be downloaded,
    and only when ``download`` (``run.download``) says so."""
    if name not in LOADERS:
        raise ValueError(unknown_name("dataset", name, LOADERS))
    if name != "digits" and root is None:
        raise DatasetError(
            f"dataset {name!r} needs 'run.data_root', a local folder (nothing is downloaded "
            "unless 'run.download = true')"
        )
    if download and name != "cifar10":
        raise DatasetError(f"config key 'run.download': {name} cannot be downloaded")
    return LOADERS[name](root, download=download)


def content_sha256(data: Dataset, indices: Sequence[int]) -> str:
    """``sha256:`` of the images and labels of ``indices``, in that order: for each index
    its number, its label, the shape and the bytes of its float32 image (as the sampler
    reads it), so that data changed in place under the same file names (new pixels, a
    relabelled image) is a different dataset to a resumed run."""
    digest = hashlib.sha256()
    for i in indices:
        x, label = data[int(i)]
        image = x.detach().to(device="cpu", dtype=torch.float32).contiguous()
        digest.update(np.array([int(i), int(label), *image.shape], dtype=np.int64).tobytes())
        digest.update(image.numpy().tobytes())
    return f"sha256:{digest.hexdigest()}"


@dataclass(frozen=True)
class IndexSubset:
    """A named set of test images: every ``stride``-th one, ``count`` of them."""

    name: str
    dataset: str
    stride: int
    count: int
    source: str


SUBSETS: dict[tuple[str, str], IndexSubset] = {
    (s.dataset, s.name): s
    for s in (
        IndexSubset(
            "cohen2019", "cifar10", 20, 500,
            "Cohen et al. (2019): every 20th CIFAR-10 test image (certify.py --skip 20)",
        ),
        IndexSubset(
            "cohen2019", "imagenet", 100, 500,
            "Cohen et al. (2019): every 100th ImageNet validation image (--skip 100)",
        ),
        IndexSubset("full", "cifar10", 1, 10_000, "the whole CIFAR-10 test set"),
        IndexSubset("full", "imagenet", 1, 50_000, "the whole ImageNet validation set"),
    )
}  # fmt: skip


def named_subset(dataset: str, name: str) -> IndexSubset:
    """The subset ``name`` of ``dataset``; a ``ValueError`` naming the known ones."""
    if (dataset, name) not in SUBSETS:
        known = sorted(n for d, n in SUBSETS if d == dataset)
        raise ValueError(f"no index subset {name!r} for {dataset}; {choices(name, known)}")
    return SUBSETS[(dataset, name)]


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
