"""A checkpoint whose bytes were damaged after it was written (a bad copy, a bad disk, an
interrupted download resumed) is refused, never read as other weights: torch's zip format
stores a CRC-32 per entry, which ``torch.load`` does not check. Shown independently: the
damaged file, where torch reads it at all, predicts other logits than the intact one."""

import zipfile

import pytest
import torch

from baselines.architectures import build
from baselines.checkpoints import CheckpointError, LoadRequest, load_checkpoint
from tests.baselines.fake_data import randomize_batch_norm
from tests.baselines.test_checkpoints import probe, write


@pytest.fixture(scope="module")
def resnet20():
    torch.manual_seed(0)
    return randomize_batch_norm(build("cifar_resnet20"), seed=1)


def _data_start(data: bytes, info: zipfile.ZipInfo) -> int:
    """Where an entry's stored bytes begin: after its local header (30 bytes, then the
    name and the extra field, whose lengths sit at offsets 26 and 28)."""
    header = data[info.header_offset : info.header_offset + 30]
    name, extra = (int.from_bytes(header[k : k + 2], "little") for k in (26, 28))
    return info.header_offset + 30 + name + extra


def _flip_inside_largest_tensor(path):
    """XOR 1,024 bytes inside the largest stored tensor of the zip archive at ``path``."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = max(archive.infolist(), key=lambda i: i.file_size)
    start = _data_start(data, info) + 64
    for i in range(start, start + 1024):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    return info.filename


@pytest.mark.parametrize("fmt", ["cohen", "state_dict", "torchscript"])
@pytest.mark.parametrize("declared", [False, True], ids=["auto", "declared"])
def test_a_damaged_archive_is_refused_naming_the_entry(tmp_path, resnet20, fmt, declared):
    path = write(tmp_path, fmt, resnet20)
    entry = _flip_inside_largest_tensor(path)
    # torch itself reads the damaged weights without a word, as other logits
    if fmt != "torchscript":
        state = torch.load(path, map_location="cpu", weights_only=True)
        state = state.get("state_dict", state)
        assert any(not torch.equal(v, resnet20.state_dict()[k]) for k, v in state.items())
    request = LoadRequest(arch="cifar_resnet20" if fmt == "state_dict" else None, where="models[2]")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, fmt if declared else "auto", request)
    text = str(err.value)
    assert "models[2].checkpoint" in text and "damaged" in text and entry in text


def test_an_intact_archive_still_loads(tmp_path, resnet20):
    path = write(tmp_path, "cohen", resnet20)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
    loaded = load_checkpoint(path, "auto")
    with torch.no_grad():
        torch.testing.assert_close(loaded(probe()), resnet20.eval()(probe()))


def test_a_damaged_known_checkpoint_says_damaged_not_the_wrong_file(tmp_path, resnet20):
    from baselines.checkpoints import DamagedCheckpoint
    from baselines.models import build_model
    from tests.baselines.test_known_checkpoint_errors import cifar10, known_spec

    path = write(tmp_path, "cohen", resnet20)
    _flip_inside_largest_tensor(path)
    with pytest.raises(DamagedCheckpoint) as err:
        build_model(known_spec(path), cifar10(), "models[0]")
    assert "damaged" in str(err.value) and "wrong file" not in str(err.value)


def test_an_archive_whose_deflated_entry_is_broken_is_refused(tmp_path):
    """zipfile raises zlib.error (not a CRC mismatch) for a deflated entry whose stream is
    broken: refused as damaged too, not as a bare zlib error (review)."""
    path = tmp_path / "ckpt.pt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", bytes(range(256)) * 400)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
    start = _data_start(data, info)
    data[start : start + 8] = b"\xff" * 8  # an invalid deflate block header
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="damaged") as err:
        load_checkpoint(path, "auto")
    assert "cannot be read (zlib.error: " in str(err.value)  # zlib's error, not a checksum
    assert "checksum" not in str(err.value)
