import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from harness.draws import CHUNK_ROWS, DrawStream, chunk_seed


@given(
    start=st.integers(0, 3 * CHUNK_ROWS),
    length=st.integers(1, 2 * CHUNK_ROWS + 5),
)
def test_rows_do_not_depend_on_how_they_are_cut(start, length):
    whole = DrawStream(7, 3, 1, dim=5).rows(0, start + length)
    piece = DrawStream(7, 3, 1, dim=5).rows(start, start + length)
    assert torch.equal(whole[start:], piece)


def test_streams_images_and_seeds_differ():
    base = DrawStream(0, 0, 0, dim=4).rows(0, 10)
    for other in [(1, 0, 0), (0, 1, 0), (0, 0, 1)]:
        assert not torch.equal(base, DrawStream(*other, dim=4).rows(0, 10))


def test_repeatable():
    a = DrawStream(123, 45, 1, dim=64).rows(500, 2500)
    b = DrawStream(123, 45, 1, dim=64).rows(500, 2500)
    assert torch.equal(a, b)
    assert abs(float(a.mean())) < 0.01 and abs(float(a.std()) - 1) < 0.01


@pytest.mark.parametrize("bad", [(-1, 0, 0, 0), (0, -2, 0, 0), (0, 0, 0, 1.5), (True, 0, 0, 0)])
def test_bad_addresses(bad):
    with pytest.raises(ValueError):
        chunk_seed(*bad)
