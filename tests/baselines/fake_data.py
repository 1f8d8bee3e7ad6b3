"""Small stand-ins for the real datasets and checkpoints, written to disk in the formats
the real ones have (no download): CIFAR-10's python batch in torchvision's folder layout,
an ImageNet-style ImageFolder, random-weight checkpoints."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch


def write_fake_cifar10(root: Path, n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``root/cifar-10-batches-py/test_batch`` (and ``batches.meta``) as the python version
    of CIFAR-10 holds them: a pickled dict with ``data`` (n x 3072 uint8, channel-major)
    and ``labels``. Returns (data as n x 3 x 32 x 32, labels)."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, size=n)]
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    batch = {
        "batch_label": "testing batch 1 of 1",
        "labels": labels,
        "data": data,
        "filenames": [f"img_{i}.png" for i in range(n)],
    }
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump(batch, fh, protocol=2)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, fh, protocol=2)
    return data.reshape(n, 3, 32, 32), np.asarray(labels)


def write_fake_imagenet_val(root: Path, images: dict[int, int], classes: int = 1000) -> list[str]:
    """``root/val/<wnid>/`` for ``classes`` class folders (named like WordNet ids, sorted
    in class order, from ImageNet-1k's first to its last); ``images[c]`` JPEGs of varied
    sizes in class ``c``. Returns the wnids."""
    from PIL import Image

    rng = np.random.default_rng(1)
    wnids = [f"n{1_440_764 + 37 * c:08d}" for c in range(classes - 1)] + ["n15075141"]
    for c, wnid in enumerate(wnids):
        folder = Path(root) / "val" / wnid
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(images.get(c, 0)):
            h, w = int(rng.integers(230, 400)), int(rng.integers(230, 400))
            pixels = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"ILSVRC2012_val_{c:04d}{k:04d}.JPEG")
    return wnids


def randomize_batch_norm(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every batch norm random running statistics and affine weights, so that a model
    that loaded wrong (or a block composed wrong) shows in its outputs."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            with torch.no_grad():
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=gen))
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=gen))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
    return model.eval()
