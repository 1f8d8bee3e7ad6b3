"""A group certified on part of a pair's images is warned of: a stopped run's images
certified at another alpha (the report's own advice for a stopped run), the run then
resumed, which certifies its config's alphas only. The report showed the alpha's board,
headline and tests on part of the images, saying only that the alpha was certified after
the run."""

from __future__ import annotations

import sqlite3
import textwrap

from harness import runner
from harness.cli import main
from harness.config import load

CONFIG = textwrap.dedent(
    """
    [run]
    name = "t"
    dataset = "digits"
    seed = 1
    n_test = 4
    n0 = 10
    n = 200
    device = "cpu"

    [[models]]
    recipe = "mlp"
    sigma0 = 0.25

    [[noises]]
    family = "gaussian"

    [certify]
    certifiers = ["cohen"]
    norms = ["l2"]
    alpha = [0.001]
    """
)


def _warnings(store, out) -> str:
    assert main(["report", str(store), "--out", str(out), "--format", "md"]) == 0
    return (out / "leaderboard.md").read_text().split("<a id=", 1)[0]  # warnings first


def test_an_alpha_certified_on_a_stopped_runs_images_is_warned_of(tmp_path, capsys):
    config = tmp_path / "t.toml"
    config.write_text(CONFIG)
    store = tmp_path / "s.sqlite"
    runner.run(load(config), store, progress=False, stop_after=3)  # stopped at 3 of 4
    assert main(["certify", str(store), "--alpha", "0.01", "--quiet"]) == 0
    assert main(["run", str(config), "--store", str(store), "--quiet"]) == 0  # resumed
    with sqlite3.connect(store) as db:
        per_alpha = dict(
            db.execute("SELECT alpha, COUNT(DISTINCT image) FROM certificates GROUP BY alpha")
        )
    assert per_alpha == {0.001: 4, 0.01: 3}
    head = _warnings(store, tmp_path / "partial")
    assert "certification incomplete: 1 certificate groups" in head, head
    assert "alpha 0.01: 3 of 4" in head and "--alpha 0.01" in head, head
    # the command it names completes them, and the warning goes
    assert main(["certify", str(store), "--alpha", "0.01", "--quiet"]) == 0
    capsys.readouterr()
    assert "certification incomplete" not in _warnings(store, tmp_path / "whole")
