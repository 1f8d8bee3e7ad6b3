import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from harness.draws import (
    CHUNK_ROWS,
    FLOAT32_ANGLE_MOVE,
    RADIUS_CUT,
    DrawStream,
    _cpu_uniforms,
    block_rows,
    box_muller,
    chunk_sequence,
    draw_distance,
    draw_method,
    polar_factors_host,
)
from harness.noise import ufuncs
from harness.noise.batch import Workspace


@given(
    start=st.integers(0, 3 * CHUNK_ROWS),
    length=st.integers(1, 2 * CHUNK_ROWS + 5),
)
def test_rows_do_not_depend_on_how_they_are_cut(start, length):
    whole = DrawStream(7, 3, 1, dim=5).rows(0, start + length)
    piece = DrawStream(7, 3, 1, dim=5).rows(start, start + length)
    assert torch.equal(whole[start:], piece)


@given(
    dim=st.sampled_from([5, 64, 300, 3072]),
    steps=st.lists(
        st.tuples(st.integers(1, CHUNK_ROWS + 300), st.integers(-400, 400) | st.just(0)),
        min_size=1,
        max_size=8,
    ),
)
def test_one_stream_filled_in_any_order_gives_the_same_rows(dim, steps):
    """The sampler's pattern: one stream filled batch after batch, of any size (here also
    with jumps back and forth), continuing where it stopped or not; every row is the row
    of the whole stream."""
    stream = DrawStream(11, 2, 1, dim=dim)
    start, pieces = 0, []
    for length, jump in steps:
        start = max(0, start + jump)
        pieces.append((start, stream.rows(start, start + length)))
        start += length
    whole = DrawStream(11, 2, 1, dim=dim).rows(0, max(a + len(p) for a, p in pieces))
    for a, piece in pieces:
        assert torch.equal(whole[a : a + len(piece)], piece)


@given(
    start=st.integers(0, 2 * CHUNK_ROWS),
    length=st.integers(1, CHUNK_ROWS + 5),
)
def test_the_device_source_cuts_the_same_way(start, length):
    """The GPU path (torch's generator, seeded per super-block) run on the CPU: rows do not
    depend on how they are cut either, and are standard normal."""
    whole = DrawStream(7, 3, 1, dim=300, source="torch").rows(0, start + length)
    piece = DrawStream(7, 3, 1, dim=300, source="torch").rows(start, start + length)
    assert torch.equal(whole[start:], piece)


@given(
    data=st.data(),
    steps=st.lists(
        st.tuples(
            st.integers(0, 3),  # which stream of the shared workspace
            st.integers(1, CHUNK_ROWS + 300),
            st.integers(-600, 600) | st.just(0),
        ),
        min_size=1,
        max_size=10,
    ),
)
def test_device_streams_sharing_a_workspace_give_their_own_rows(data, steps):
    """The GPU path (run on the CPU) keeps a super-block's unconsumed uniforms and a cut
    block in the workspace for a stream's next rows: streams that share the workspace (the
    selection and estimation streams of an image, another image, another dimension, a
    numpy stream) filled in turn, batch after batch or with jumps, each get the rows of
    their whole stream."""
    workspace = Workspace()
    dims = data.draw(st.lists(st.sampled_from([5, 64, 300, 8192]), min_size=4, max_size=4))
    addresses = [(11, 2, 1), (11, 2, 0), (11, 3, 1), (12, 2, 1)]
    sources = ["torch", "torch", "torch", data.draw(st.sampled_from(["torch", "numpy"]))]
    streams = [
        DrawStream(*a, dim=d, workspace=workspace, source=src)
        for a, d, src in zip(addresses, dims, sources, strict=True)
    ]
    starts = [0] * 4
    for which, length, jump in steps:
        stream = streams[which]
        if stream.dim == 8192:
            length = min(length, 600)
        start = max(0, starts[which] + jump)
        got = stream.rows(start, start + length)
        alone = DrawStream(*addresses[which], dim=stream.dim, source=sources[which])
        assert torch.equal(got, alone.rows(0, start + length)[start:]), (which, start, length)
        starts[which] = start + length


def test_a_numpy_stream_writing_the_shared_buffers_ends_what_a_device_stream_kept():
    """A device stream keeps its super-block's unconsumed uniforms and a cut block in the
    workspace; a numpy stream of the same workspace writes the same buffers, so the device
    stream's next rows must not be read from them."""
    workspace = Workspace()
    device = DrawStream(11, 2, 1, dim=300, workspace=workspace, source="torch")
    cpu = DrawStream(11, 5, 1, dim=300, workspace=workspace, source="numpy")
    whole = DrawStream(11, 2, 1, dim=300, source="torch").rows(0, 800)
    assert torch.equal(device.rows(0, 100), whole[:100])  # 4 blocks of 25 rows
    cpu.rows(0, 500)  # writes the uniforms of 20 blocks
    assert torch.equal(device.rows(100, 410), whole[100:410])  # 12 blocks and 10 rows
    cpu.rows(500, 510)  # writes the tail with 10 rows of its own
    assert torch.equal(device.rows(410, 800), whole[410:])


def test_the_device_source_draws_standard_normals():
    g = DrawStream(2, 0, 1, dim=3072, source="torch").rows(0, 400).reshape(-1).double()
    assert stats.kstest(g[:300_000].numpy(), "norm").pvalue > 1e-3
    c, s = _pairs(DrawStream(2, 0, 1, dim=3072, source="torch").rows(0, 400))
    assert stats.kstest((c * c + s * s).numpy(), stats.expon(scale=2.0).cdf).pvalue > 1e-3
    with pytest.raises(ValueError, match="uniform source"):
        DrawStream(0, 0, 0, dim=4, source="dice")


def _documented_rows(seed: int, index: int, stream: int, chunk: int, dim: int) -> np.ndarray:
    """A chunk's rows built from the module's description alone, in float64: numpy's SFC64
    seeded by SeedSequence([seed, index, stream, chunk]), read block by block (a block's
    u then its v), each block the cosines of its pairs and then their sines."""
    rng = np.random.Generator(np.random.SFC64(np.random.SeedSequence([seed, index, stream, chunk])))
    pairs = block_rows(dim) * dim // 2
    blocks = []
    for _ in range(CHUNK_ROWS // block_rows(dim)):
        uv = rng.random(2 * pairs)
        u, v = uv[:pairs], uv[pairs:]
        radius = np.sqrt(-2.0 * np.log(u + 2.0**-54))
        blocks += [radius * np.cos(2.0 * np.pi * v), radius * np.sin(2.0 * np.pi * v)]
    return np.concatenate(blocks).reshape(CHUNK_ROWS, dim)


@pytest.mark.parametrize("dim", [3, 64])
def test_the_draws_are_the_documented_construction(dim):
    """The addressing and the layout, pinned by an independent construction: a change to
    either changes every stored run's draws and must come with a new DRAW_METHOD."""
    rows = DrawStream(7, 3, 1, dim=dim, dtype=torch.float64).rows(CHUNK_ROWS - 40, CHUNK_ROWS + 40)
    want = np.concatenate(
        [_documented_rows(7, 3, 1, 0, dim)[-40:], _documented_rows(7, 3, 1, 1, dim)[:40]]
    )
    np.testing.assert_allclose(rows.numpy(), want, rtol=1e-12, atol=1e-13)


def test_the_super_blocks_of_the_device_source_differ():
    """At dim 8192 a block is one row and a super-block (2^22 values) 512 rows, so a chunk
    spans two super-blocks (an ImageNet chunk, 1000 x 150,528, spans 36): each is seeded
    on its own, not a repeat of the first."""
    rows = DrawStream(0, 0, 1, 8192, source="torch").rows(0, CHUNK_ROWS)
    assert not torch.equal(rows[: CHUNK_ROWS - 512], rows[512:])


def test_streams_images_and_seeds_differ():
    base = DrawStream(0, 0, 0, dim=4).rows(0, 10)
    for other in [(1, 0, 0), (0, 1, 0), (0, 0, 1)]:
        assert not torch.equal(base, DrawStream(*other, dim=4).rows(0, 10))


def test_repeatable():
    a = DrawStream(123, 45, 1, dim=64).rows(500, 2500)
    b = DrawStream(123, 45, 1, dim=64).rows(500, 2500)
    assert torch.equal(a, b)
    assert abs(float(a.mean())) < 0.01 and abs(float(a.std()) - 1) < 0.01


@pytest.mark.parametrize(
    "bad",
    [(-1, 0, 0, 0), (0, -1, 0, 0), (0, 0, -1, 0), (0, 0, 0, -1), (0, 0, 0, 1.5), (True, 0, 0, 0)],
)
def test_bad_addresses(bad):
    name = ("seed", "index", "stream", "chunk")[[v != 0 for v in bad].index(True)]
    with pytest.raises(ValueError, match=f"{name} must be a non-negative int"):
        chunk_sequence(*bad)
    if name != "chunk":
        with pytest.raises(ValueError, match=f"{name} must be a non-negative int"):
            DrawStream(*bad[:3], dim=4)


# the law of the draws ---------------------------------------------------------------------
def _pairs(draws: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The Box-Muller pairs of whole blocks of a chunk's rows: (cosine side, sine side)."""
    rows = block_rows(draws.shape[1])
    blocks = draws.shape[0] // rows
    pairs = rows * draws.shape[1] // 2
    view = draws[: blocks * rows].reshape(blocks, 2, pairs).double()
    return view[:, 0].reshape(-1), view[:, 1].reshape(-1)


def test_coordinates_are_standard_normal_and_pairs_independent():
    g = DrawStream(1, 2, 1, dim=4096).rows(0, 1000)
    c, s = _pairs(g)
    for values in (c, s, g.reshape(-1).double()):
        assert stats.kstest(values[:200_000].numpy(), "norm").pvalue > 1e-3
    assert abs(float(torch.corrcoef(torch.stack([c, s]))[0, 1])) < 5e-3
    # the squared radius of a pair is chi^2_2, i.e. exponential with mean 2
    r2 = (c * c + s * s).numpy()
    assert stats.kstest(r2, stats.expon(scale=2.0).cdf).pvalue > 1e-3


def test_the_tail_of_the_pair_radius_is_exact():
    """Beyond R^2 = 16 (probability e^-8) the excess R^2 - 16 is again exponential with
    mean 2; float32 randn would also stop at R^2 = 33.3 (|g| <= 5.77)."""
    excess = []
    for chunk in range(4):
        c, s = _pairs(
            DrawStream(3, 0, 1, dim=2048).rows(chunk * CHUNK_ROWS, (chunk + 1) * CHUNK_ROWS)
        )
        r2 = c * c + s * s
        excess.append((r2[r2 > 16.0] - 16.0).numpy())
    tail = np.concatenate(excess)
    assert 900 < tail.size < 1900  # 4 chunks x 1.02e6 pairs x e^-8 = 1380 expected
    assert stats.kstest(tail, stats.expon(scale=2.0).cdf).pvalue > 1e-3


def test_uniforms_have_53_bits_and_reach_the_radius_cut():
    """The radius comes from the midpoint of u's cell on the 2^-53 grid: its extreme
    value is sqrt(108 ln 2) = 8.65, beyond the 5.77 of float32 torch.randn."""
    uv = torch.tensor([[[0.0, 0.5], [0.0, 0.25]]], dtype=torch.float64)
    cos_out, sin_out = torch.empty(1, 2), torch.empty(1, 2)
    box_muller(uv, cos_out, sin_out, torch.empty(1, 2), torch.empty(1, 2))
    assert float(cos_out[0, 0]) == pytest.approx(RADIUS_CUT, rel=1e-6)  # R = 8.65, theta = 0
    assert RADIUS_CUT > 8.6 and math.sqrt(-2 * math.log(2.0**-24)) < 5.77
    assert float(sin_out[0, 1]) == pytest.approx(math.sqrt(-2 * math.log(0.5)), rel=1e-6)
    # what numpy's SFC64 stream gives: doubles on the 2^-53 grid, finer than 2^-24
    u = _cpu_uniforms(chunk_sequence(0, 0, 0, 0)).random(100_000)
    scaled = u * 2.0**53
    assert np.all(scaled == np.floor(scaled))
    assert np.mean(u * 2.0**24 != np.floor(u * 2.0**24)) > 0.99


@pytest.mark.parametrize("numpy_ufuncs", [True, False], ids=["numpy-ufuncs", "torch-kernels"])
def test_float32_and_float64_draws_differ_only_by_rounding(monkeypatch, numpy_ufuncs):
    """The same uniforms: float32 rounds the angle and takes numpy's or torch's float32 cos
    and sin (together at most 3.6e-7 R per coordinate) and rounds the product; the radius
    is computed in float64 either way (float64 pairs take torch's kernels). The CPU takes
    numpy's ufuncs where numpy runs them on AVX512 (``harness.noise.ufuncs``): both
    choices are checked here."""
    monkeypatch.setattr(ufuncs, "USE_NUMPY_UFUNCS", numpy_ufuncs)
    assert DrawStream(0, 0, 0, dim=300)._host_math is numpy_ufuncs
    g32 = DrawStream(4, 5, 0, dim=300, dtype=torch.float32).rows(0, 1000)
    g64 = DrawStream(4, 5, 0, dim=300, dtype=torch.float64).rows(0, 1000)
    c32, s32 = _pairs(g32)
    c64, s64 = _pairs(g64)
    radius = torch.sqrt(c64 * c64 + s64 * s64)
    for a, b in ((c32, c64), (s32, s64)):
        assert torch.all((a - b).abs() <= FLOAT32_ANGLE_MOVE * radius + 2.0**-23 * b.abs())


@given(
    u=st.lists(st.integers(0, 2**53 - 1), min_size=1, max_size=64),
    v=st.lists(st.integers(0, 2**53 - 1), min_size=64, max_size=64),
)
def test_host_and_device_box_muller_are_the_exact_pairs_to_the_stated_bound(u, v):
    """On the same uniforms, numpy's ufuncs (the CPU) and torch's kernels (a GPU, here
    on the CPU) both give the pair ``R (cos 2 pi v, sin 2 pi v)`` computed in extended
    precision to within FLOAT32_ANGLE_MOVE * R and float32 rounding of the product."""
    pairs = len(u)
    uv = np.empty((1, 2, pairs))
    uv[0, 0] = np.array(u, dtype=np.float64) * 2.0**-53
    uv[0, 1] = np.array(v[:pairs], dtype=np.float64) * 2.0**-53
    # the point where the radius is taken, u + 2^-54 in float64 (inside u's cell: for
    # u >= 1/2 a cell end, the move along the radius the module docstring bounds)
    radius = np.sqrt(-2 * np.log((uv[0, 0] + 2.0**-54).astype(np.longdouble)))
    angle = 2 * np.pi * uv[0, 1].astype(np.longdouble)
    exact = (radius * np.cos(angle), radius * np.sin(angle))
    factors = [np.empty((1, pairs), np.float32) for _ in range(3)]
    polar_factors_host(uv.copy(), *factors)
    host = (factors[0] * factors[1], factors[0] * factors[2])
    device = (torch.empty(1, pairs), torch.empty(1, pairs))
    box_muller(torch.from_numpy(uv.copy()), *device, torch.empty(1, pairs), torch.empty(1, pairs))
    for got in (host, (device[0].numpy(), device[1].numpy())):
        for value, want in zip(got, exact, strict=True):
            err = np.abs(value[0].astype(np.longdouble) - want)
            bound = FLOAT32_ANGLE_MOVE * radius + 2.0**-22 * np.abs(want) + 1e-30
            assert np.all(err <= bound), float(np.max(err / bound))


def test_distance_statement():
    d = draw_distance(150_528)
    assert d["unreachable_mass_per_row"] == pytest.approx(75_264 * 2.0**-53)
    assert (
        d["unreachable_mass_per_row"] < 1e-11 < 4e-3 < d["float32_randn_unreachable_mass_per_row"]
    )
    assert draw_method("cpu") != draw_method("cuda")


@pytest.mark.parametrize("dim", [1, 3, 5, 64, 784, 3072, 8193, 150_528])
def test_blocks_are_whole_rows_and_whole_pairs(dim):
    rows = block_rows(dim)
    assert CHUNK_ROWS % rows == 0 and (rows * dim) % 2 == 0
    assert rows * dim <= 8192 or rows <= 2


@pytest.mark.parametrize(
    ("dim", "rows"),
    # the largest divisor of 1000 whose block holds at most 8192 values, an even number of
    # them: 8 x 1024 = 8192 exactly; 8193 is odd, so 2 rows (the first even block); an
    # ImageNet row alone is beyond 8192 but even
    [(1, 1000), (3, 1000), (5, 1000), (9, 500), (64, 125), (784, 10), (1024, 8), (3072, 2)]
    + [(8193, 2), (150_528, 1)],
)
def test_the_block_of_a_dimension_is_the_documented_one(dim, rows):
    assert block_rows(dim) == rows


def test_bad_stream_arguments():
    with pytest.raises(ValueError):
        DrawStream(0, 0, 0, dim=0)
    with pytest.raises(ValueError, match="float32 or float64"):
        DrawStream(0, 0, 0, dim=4, dtype=torch.float16)
    with pytest.raises(ValueError, match="out must be"):
        DrawStream(0, 0, 0, dim=4).fill(torch.empty(3, 5), 0)


@pytest.mark.slow
def test_tails_beyond_5_8_at_imagenet_size():
    """At ImageNet size (d = 150,528; 4,000 rows, 6.0e8 values, as one image's estimation
    draws take them), the frequency of |G| > 5.8 and of a Box-Muller pair radius R > 5.8
    match N(0, 1) (a two-sided binomial test each): float32 torch.randn (Box-Muller on
    24-bit uniforms) caps |G| and R at 5.77, which would give none of either, against
    about 4 coordinates (P = 2 Phi(-5.8) = 6.6e-9) and 15 pairs (P = e^-16.82 = 4.96e-8)
    expected here. The frequency of |G| > 5 (about 340) checks the shape of the tail just
    inside the cap with power."""
    dim, rows, batch = 150_528, 4_000, 100
    stream = DrawStream(11, 5, 1, dim=dim)
    buf, g, r2 = torch.empty(batch, dim), torch.empty(batch, dim), torch.empty(batch, dim // 2)
    over, over_pairs = (
        torch.empty(batch, dim, dtype=torch.bool),
        torch.empty(r2.shape, dtype=torch.bool),
    )
    beyond_58 = beyond_5 = pairs_beyond = 0
    for start in range(0, rows, batch):  # buffers reused: no fresh 60 MB tensor a batch
        stream.fill(buf, start)
        torch.abs(buf, out=g)
        beyond_58 += int(torch.gt(g, 5.8, out=over).sum())
        beyond_5 += int(torch.gt(g, 5.0, out=over).sum())
        c, s = buf[:, : dim // 2], buf[:, dim // 2 :]  # a row's pairs: cosine, sine side
        torch.mul(c, c, out=r2).addcmul_(s, s)
        pairs_beyond += int(torch.gt(r2, 5.8**2, out=over_pairs).sum())
    values = rows * dim
    tests = [
        (beyond_58, values, 2 * stats.norm.sf(5.8)),
        (beyond_5, values, 2 * stats.norm.sf(5.0)),
        (pairs_beyond, values // 2, math.exp(-(5.8**2) / 2)),
    ]
    for count, trials, p in tests:
        assert stats.binomtest(count, trials, p).pvalue > 1e-3, (count, trials * p)
    assert pairs_beyond > 0 and beyond_58 > 0  # a 5.77 cap gives none
