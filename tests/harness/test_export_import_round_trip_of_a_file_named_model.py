"""A store whose model is named by its checkpoint's file (no ``name``: spaces and
parentheses allowed) exports, and its export imports under that name (a rule borrowed
from configs' explicit names once refused it)."""

from __future__ import annotations

import json

import torch

from baselines.architectures import build
from harness import runner
from harness.cli import main
from harness.config import parse
from harness.store import Store


def test_an_export_of_a_run_imports(tmp_path, capsys):
    ckpt = tmp_path / "My Net (v2).pt"  # a file name: the model's display name is "My Net (v2)"
    torch.save(build("mlp").eval().state_dict(), ckpt)
    cfg = parse({
        "run": {"name": "x", "dataset": "digits", "seed": 1, "n_test": 3, "n0": 10, "n": 100,
                "batch_size": 100},
        "models": [{"checkpoint": str(ckpt), "arch": "mlp", "sigma0": 0.25}],
        "noises": [{"family": "gaussian"}],
        "certify": {"certifiers": ["cohen"], "alpha": [0.001]},
    })  # fmt: skip
    store = runner.run(cfg, tmp_path / "s.sqlite", progress=False)
    with Store(store) as st:
        assert list(st.get_manifest("models")) == ["My Net (v2)"]  # the config accepted it
    out = tmp_path / "exp"
    assert main(["export", "cohen-tsv", str(store), "--out", str(out)]) == 0
    index = json.loads((out / "index.json").read_text())
    f = [f for f in index["files"] if f["certifier"] == "cohen"][0]
    capsys.readouterr()
    imported = tmp_path / "i.sqlite"
    assert main(["import", "cohen-tsv", str(out / f["file"]), "--store", str(imported)]) == 0
    with Store(imported) as st:
        assert {m for (m,) in st.query("SELECT DISTINCT model FROM imported")} == {"My Net (v2)"}
