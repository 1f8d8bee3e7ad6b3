"""A report (or an export) that fails mid-file, as on a full disk, leaves the previous
good files in place, byte for byte, and no temporary file behind: every output is
written to a temporary name and renamed (``smoothbench.atomic``)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import matplotlib.figure
import pytest

from harness.cli import main
from smoothbench.atomic import write_atomic

CONFIG = (
    '[run]\nname = "atomic"\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\n'
    'n_test = 4\nn0 = 10\nn = 200\n[[noises]]\nfamily = "gaussian"\n'
    '[certify]\ncertifiers = ["cohen"]\nalpha = [0.01]\n'
)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from harness import config, runner

    root = tmp_path_factory.mktemp("atomic")
    (root / "c.toml").write_text(CONFIG)
    return runner.run(config.load(root / "c.toml"), root / "s.sqlite", progress=False)


def _full_disk(path: Path) -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def _half_then_fail(monkeypatch, kind: str) -> list[Path]:
    """Make writes of ``kind`` ("text", "bytes" or "figure") write half their data, then
    raise ENOSPC; returns the paths that were cut."""
    cut: list[Path] = []
    if kind == "figure":
        real = matplotlib.figure.Figure.savefig

        def savefig(self, fname, *args, **kwargs):
            real(self, fname, *args, **kwargs)
            data = Path(fname).read_bytes()
            Path(fname).write_bytes(data[: len(data) // 2])
            cut.append(Path(fname))
            raise _full_disk(Path(fname))

        monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
        return cut
    name = "write_text" if kind == "text" else "write_bytes"
    real = getattr(Path, name)

    def write(self, data, *args, **kwargs):
        real(self, data[: len(data) // 2], *args, **kwargs)
        cut.append(self)
        raise _full_disk(self)

    monkeypatch.setattr(Path, name, write)
    return cut


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("kind", ["text", "figure"])
def test_a_report_failing_mid_file_leaves_the_good_files(
    store, tmp_path, monkeypatch, capsys, kind
):
    out = tmp_path / "report"
    assert main(["report", str(store), "--out", str(out)]) == 0
    good = _snapshot(out)
    assert any(name.endswith(".svg") for name in good) and "leaderboard.md" in good
    capsys.readouterr()
    _half_then_fail(monkeypatch, kind)
    assert main(["report", str(store), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "No space left on device" in err and err.startswith("smoothbench report: error")
    # the half-written file was a temporary one (written perhaps in a worker process)
    assert ".tmp" in err
    monkeypatch.undo()
    assert _snapshot(out) == good  # every good file intact, no temporary file left


def test_an_export_failing_mid_file_leaves_the_good_files(store, tmp_path, monkeypatch, capsys):
    out = tmp_path / "export"
    assert main(["export", "cohen-tsv", str(store), "--out", str(out)]) == 0
    good = _snapshot(out)
    assert good
    cut = _half_then_fail(monkeypatch, "text")
    assert main(["export", "cohen-tsv", str(store), "--out", str(out)]) == 1
    monkeypatch.undo()
    assert cut and _snapshot(out) == good


@pytest.mark.parametrize("data", ["new text", b"new bytes"])
def test_write_atomic_on_a_full_disk_keeps_the_old_file(tmp_path, monkeypatch, data):
    path = tmp_path / "out.txt"
    path.write_text("old")
    _half_then_fail(monkeypatch, "text" if isinstance(data, str) else "bytes")
    with pytest.raises(OSError) as err:
        write_atomic(path, data)
    monkeypatch.undo()
    assert err.value.errno == errno.ENOSPC
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]
