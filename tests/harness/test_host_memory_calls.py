"""``keep_freed_memory`` makes the two ``mallopt`` calls its docstring names, with
glibc's <malloc.h> parameter numbers (M_MMAP_MAX = -4, M_TRIM_THRESHOLD = -1), and
reports a refusal or a libc that is not glibc instead of claiming the setting. A fake
libc records the calls, so the process's allocator is left alone."""

from __future__ import annotations

import pytest

from harness import host_memory

# glibc's malloc.h
GLIBC_M_TRIM_THRESHOLD = -1
GLIBC_M_MMAP_MAX = -4


class FakeLibc:
    def __init__(self, answer: int = 1) -> None:
        self.calls: list[tuple[int, int]] = []
        self.answer = answer

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return self.answer


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(host_memory, "_state", host_memory._state)  # restored afterwards
    monkeypatch.setattr(host_memory.platform, "libc_ver", lambda: ("glibc", "2.36"))

    def install(answer: int = 1) -> FakeLibc:
        libc = FakeLibc(answer)
        monkeypatch.setattr(host_memory.ctypes, "CDLL", lambda name: libc)
        return libc

    return install


def test_both_mallopt_calls_are_made_with_glibcs_parameters(fake):
    libc = fake()
    state = host_memory.keep_freed_memory()
    # every allocation from the heap; up to 2 GiB (the largest int) of freed memory kept
    assert sorted(libc.calls) == sorted(
        [(GLIBC_M_MMAP_MAX, 0), (GLIBC_M_TRIM_THRESHOLD, 2**31 - 1)]
    )
    assert state.startswith("glibc, freed memory kept") and str(2**31 - 1) in state
    assert host_memory.host_memory_state() == state


def test_a_refused_mallopt_is_reported_as_unchanged(fake):
    fake(answer=0)
    assert host_memory.keep_freed_memory() == "unchanged: glibc refused mallopt"
    assert host_memory.host_memory_state() == "unchanged: glibc refused mallopt"


def test_without_glibc_nothing_is_called(fake, monkeypatch):
    libc = fake()
    monkeypatch.setattr(host_memory.platform, "libc_ver", lambda: ("", ""))
    assert host_memory.keep_freed_memory().startswith("unchanged: not glibc")
    assert libc.calls == []
