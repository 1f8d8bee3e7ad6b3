"""Where a condition on a count starts to hold, searched from a first guess: the sample
sizes the planners look for (draws for a certificate, images for a test's power), whose
conditions grow with the count but for a small saw-tooth of integer counts."""

from __future__ import annotations

from collections.abc import Callable


def crossing(start: int, reaches: Callable[[int], bool], limit: int | None = None) -> int | None:
    """An ``n >= 1`` where ``reaches(n)`` holds and ``reaches(n - 1)`` does not (or
    ``n = 1``), found from ``start >= 1``: where ``start`` reaches, downward by doubling
    steps to a count that does not (or 0); else upward by doubling steps to one that does;
    then by bisection between the two. For a condition that holds from some n on, that n.
    None where no count up to ``limit`` reaches (no probe beyond it is made; the limit
    itself is probed before giving up: a doubling from 1 passes 2^29, not 10^9)."""
    if limit is not None and start > limit:  # no probe beyond the limit, the guess's neither
        if limit < 1:
            return None
        start = limit
    if reaches(start):
        step, hi = 1, start
        while hi - step >= 1 and reaches(hi - step):
            hi, step = hi - step, step * 2
        lo = max(hi - step, 0)
    else:
        step, lo = 1, start
        while True:
            hi = lo + step
            if limit is not None and hi > limit:  # the last step ends at the limit
                if lo >= limit or not reaches(limit):
                    return None
                hi = limit
                break
            if reaches(hi):
                break
            lo, step = hi, step * 2
    while hi - lo > 1:  # reaches(hi); not reaches(lo), or lo = 0
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if reaches(mid) else (mid, hi)
    return hi
