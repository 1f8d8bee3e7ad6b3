"""Reading a large store's certificates takes seconds (17.9 s for 2.3 million), so the
report shows a bar of the certificates read on a terminal, and nothing where stderr is not
one or no description is given; the table read is the same either way."""

from __future__ import annotations

import io
import re
from functools import partialmethod

import pandas as pd

from harness.certify import certify_store
from harness.store import Store
from reports.cli import make_report
from reports.tidy import load_outcomes
from tests.reports._report_synth import ALPHA, winner_store


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _store(tmp_path):
    path = tmp_path / "s.sqlite"
    with winner_store(path, n_images=30) as store:
        certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    return path


def test_a_bar_counts_every_certificate_on_a_terminal(tmp_path, monkeypatch):
    path = _store(tmp_path)
    plain = load_outcomes(path)
    monkeypatch.setattr(Store, "query_chunks", partialmethod(Store.query_chunks, rows=7))
    monkeypatch.setattr("sys.stderr", terminal := Terminal())
    shown = load_outcomes(path, desc="reading certificates")
    pd.testing.assert_frame_equal(shown, plain)
    bars = terminal.getvalue()
    assert "reading certificates" in bars
    assert re.search(rf"/{len(plain)}(\.0)? \[", bars), bars  # the total: every certificate


def test_no_bar_off_a_terminal_nor_without_a_description(tmp_path, monkeypatch):
    path = _store(tmp_path)
    monkeypatch.setattr("sys.stderr", piped := io.StringIO())
    load_outcomes(path, desc="reading certificates")
    monkeypatch.setattr("sys.stderr", terminal := Terminal())
    load_outcomes(path)
    assert piped.getvalue() == "" and terminal.getvalue() == ""


def test_the_report_shows_it(tmp_path, monkeypatch):
    path = _store(tmp_path)
    monkeypatch.setenv("SMOOTHBENCH_WORKERS", "1")
    monkeypatch.setattr("sys.stderr", terminal := Terminal())
    make_report(path)
    assert "reading certificates" in terminal.getvalue()
