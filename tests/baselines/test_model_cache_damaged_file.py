"""A cached trained model whose file no longer holds the bytes that were written (a
flipped bit in a weight, a truncated file) is never served: ``load_or_train`` trains the
recipe again, and returns what a fresh training gives, with that model's sha256."""

from __future__ import annotations

import hashlib
import io

import pytest
import torch

from baselines.datasets import load_dataset
from baselines.training import Recipe, load_or_train, train

RECIPE = Recipe("mlp", "digits", 0.25, epochs=2)


@pytest.fixture(scope="module")
def data():
    return load_dataset("digits")


def state_bytes(model: torch.nn.Module) -> bytes:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()


def flip_a_weight(blob: bytes, model: torch.nn.Module) -> bytes:
    """The file with the exponent of the first weight of the first layer changed."""
    needle = model.state_dict()["net.1.weight"].flatten()[:4].numpy().tobytes()
    at = blob.find(needle)
    assert at > 0
    out = bytearray(blob)
    out[at + 3] ^= 0x40
    return bytes(out)


@pytest.mark.parametrize("damage", ["weight bit flipped", "truncated"])
def test_a_damaged_cached_model_is_trained_again(tmp_path, monkeypatch, data, damage):
    monkeypatch.setenv("SMOOTHBENCH_CACHE", str(tmp_path))
    first = load_or_train(RECIPE, data)
    blob = first.path.read_bytes()
    if damage == "truncated":
        first.path.write_bytes(blob[: len(blob) // 2])
    else:
        first.path.write_bytes(flip_a_weight(blob, first.model))
    served = load_or_train(RECIPE, data)
    fresh = train(RECIPE, data)
    for name, value in fresh.state_dict().items():
        assert torch.equal(served.model.state_dict()[name], value), name
    assert served.sha256 == hashlib.sha256(state_bytes(fresh)).hexdigest()
