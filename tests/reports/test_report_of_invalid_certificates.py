"""A store can hold values that are no certificate (written before ``certify`` checked
what certifiers return, or altered): a radius that is infinite at p_A < 1 or negative, a
confidence spent beyond alpha outside [0, 1). ``smoothbench report`` crashed on an
infinite ACR (pandas: "Cannot convert non-finite values (NA or inf) to integer", from
the rank) and on such a confidence (the false-certificate bound), naming no certifier,
so that one bad row blocked every report of the store. The report is written, and the
row is marked unsound and kept out of the headlines."""

from __future__ import annotations

import pytest

from harness.cli import main
from tests.reports._report_synth import copy_certificates, winner_store

CASES = {  # (radius where p_A > 1/2, confidence spent)
    "infinite radius": (float("inf"), 0.0),
    "negative radius": (-1.0, 0.0),
    "confidence spent above 1": (0.1, 2.0),
    "negative confidence spent": (0.1, -0.5),
    "infinite confidence spent": (0.1, float("inf")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_report_marks_a_row_of_invalid_values_unsound(tmp_path, capsys, case):
    radius, spent = CASES[case]
    path = tmp_path / "s.sqlite"
    with winner_store(path, n_images=40) as store:
        copy_certificates(store, "cohen", "bad-plugin", lambda p, spec, norm: radius, spent=spent)
    code = main(["report", str(path), "--out", str(tmp_path / "out"), "--format", "md"])
    assert code == 0, capsys.readouterr().err
    board = (tmp_path / "out" / "leaderboard.md").read_text()
    lines = [line for line in board.splitlines() if "| bad-plugin " in line]
    assert len(lines) == 3 and all("UNSOUND" in line for line in lines), lines
    claims = [line for line in board.splitlines() if line.startswith("- **Claim:**")]
    assert claims and not any("bad-plugin" in line for line in claims), claims
