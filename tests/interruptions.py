"""Interruptions at chosen points of a run, for the tests of what a stopped run leaves
and says: Ctrl-C (or another error) raised by a call, or by a manifest entry's write."""

from __future__ import annotations

from typing import Any


def stop_at_call(
    monkeypatch: Any, owner: Any, name: str, call: int, error: Any = KeyboardInterrupt
):
    """Make ``owner.name`` raise ``error`` on its ``call``-th call (1-based)."""
    real, calls = getattr(owner, name), []

    def stopping(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, stopping)


def stop_at_manifest_key(monkeypatch: Any, key: str) -> None:
    """Make the store raise ``KeyboardInterrupt`` as it writes manifest entry ``key``."""
    from harness.store import Store

    real = Store._put_manifest

    def stopped(self, entry, value):
        if entry == key:
            raise KeyboardInterrupt
        real(self, entry, value)

    monkeypatch.setattr(Store, "_put_manifest", stopped)
