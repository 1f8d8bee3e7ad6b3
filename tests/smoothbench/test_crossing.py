"""``crossing`` finds where a condition on a count starts to hold, from any first guess:
for a threshold condition, the threshold itself; where the guess lies beyond the limit's
reach, None, with no count beyond the limit ever tried."""

from hypothesis import given
from hypothesis import strategies as st

from smoothbench.crossing import crossing


@given(st.integers(1, 10**12), st.integers(1, 10**12))
def test_a_threshold_is_found_from_any_guess(threshold, start):
    tried = []

    def reaches(n: int) -> bool:
        tried.append(n)
        return n >= threshold

    assert crossing(start, reaches) == threshold
    assert len(tried) <= 4 * 41  # doubling steps and bisection: logarithmic


@given(st.integers(2, 10**9), st.integers(1, 10**9))
def test_nothing_beyond_the_limit_is_tried(threshold, start):
    limit = threshold - 1
    tried = []

    def reaches(n: int) -> bool:
        tried.append(n)
        return n >= threshold

    if start <= limit:
        assert crossing(start, reaches, limit) is None
        assert max(tried) <= limit


def test_a_saw_tooth_gives_a_count_that_reaches_where_the_one_before_does_not():
    holds = {5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}  # 7 and 8 drop out

    def reaches(n: int) -> bool:
        return n in holds or n > 20

    for start in range(1, 30):
        n = crossing(start, reaches)
        assert reaches(n) and not reaches(n - 1)


@given(st.integers(1, 10**9), st.integers(0, 10**9), st.integers(1, 10**9))
def test_a_threshold_up_to_the_limit_is_found(threshold, beyond, start):
    """Up to the limit, not only up to the last doubling step below it: from 1 the steps
    pass 2^29 = 536,870,912, and a threshold above it under a limit of 10^9 gave None."""
    limit = threshold + beyond
    tried = []

    def reaches(n: int) -> bool:
        tried.append(n)
        return n >= threshold

    if start <= limit:
        assert crossing(start, reaches, limit) == threshold
        assert max(tried) <= limit


def test_the_planners_limit_is_reached():
    assert crossing(1, lambda n: n >= 575_645_986, 10**9) == 575_645_986


@given(st.integers(1, 10**6), st.integers(1, 10**6), st.integers(0, 10**6))
def test_a_guess_beyond_the_limit_probes_nothing_beyond_it(threshold, limit, beyond):
    """A first guess past the limit starts from the limit (it probed the guess, and
    returned a count past the limit)."""
    tried = []

    def reaches(n: int) -> bool:
        tried.append(n)
        return n >= threshold

    got = crossing(limit + 1 + beyond, reaches, limit)
    assert got == (threshold if threshold <= limit else None)
    assert max(tried, default=0) <= limit
