"""The appendix lists at most ``DISCORDANT_SHOWN`` images behind a headline's gap, and its
caption gives the ``smoothbench compare`` command that lists them all (at 10,000 images
the appendix listed 8,729 table lines and the HTML page weighed 8 MB)."""

from __future__ import annotations

import re
import shlex

from harness.cli import main
from reports.cli import make_report
from reports.view import DISCORDANT_SHOWN, discordant_table
from tests.reports._report_synth import winner_store


def test_the_first_images_are_shown_and_the_command_lists_them_all(tmp_path, capsys):
    path = tmp_path / "s.sqlite"
    winner_store(path, n_images=400).close()
    report, (h,) = make_report(path)
    table = discordant_table(report.boards[0], h)
    assert table is not None
    found = h.n10 + h.n01
    assert found > DISCORDANT_SHOWN
    shown = [int(cells[0].text) for cells in table.rows]
    assert len(shown) == DISCORDANT_SHOWN and shown == sorted(shown)
    assert f"The first {DISCORDANT_SHOWN} of {found} by index" in table.caption
    command = re.search(r"`(smoothbench compare [^`]+)` lists them all", table.caption)
    assert command is not None
    capsys.readouterr()
    assert main(shlex.split(command.group(1).replace("STORE", shlex.quote(str(path))))[1:]) == 0
    listed = [
        int(line.split()[0]) for line in capsys.readouterr().out.splitlines()[2:] if line.strip()
    ]
    assert len(listed) == found and listed[:DISCORDANT_SHOWN] == shown
