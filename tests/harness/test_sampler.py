import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

import certifiers
from certifiers.bounds import clopper_pearson_lower
from harness import certify_counts, count_predictions, sample_counts, sampler
from harness.draws import ESTIMATION, SELECTION, DrawStream
from harness.noise import Gaussian, Laplace, MixedNorm
from harness.noise.batch import Batch, Workspace
from harness.sampler import SamplerOptions, auto_batch_size, count_on_device, prepare_model


def mlp(dim=64, classes=10, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(dim, 32), torch.nn.ReLU(), torch.nn.Linear(32, classes)
    )


class Hyperplane(torch.nn.Module):
    """Binary linear classifier: class 1 iff w.x + b > 0 (logits [0, w.x + b])."""

    def __init__(self, w: torch.Tensor, b: float):
        super().__init__()
        self.w = torch.nn.Parameter(w.clone(), requires_grad=False)
        self.b = b

    def forward(self, x):
        s = x.flatten(1) @ self.w + self.b
        return torch.stack([torch.zeros_like(s), s], dim=1)


@pytest.mark.parametrize("batch", [1, 256, 1000, 1237, 5000])
def test_counts_do_not_depend_on_batch_size(batch):
    model = mlp()
    x = torch.rand(1, 8, 8)
    noise = Gaussian(0.5, 64)
    ref = sample_counts(model, x, noise, 3000, seed=11, batch_size=3000, index=4, stream=ESTIMATION)
    got = sample_counts(
        model, x, noise, 3000, seed=11, batch_size=batch, index=4, stream=ESTIMATION
    )
    assert got.dtype == np.int64 and got.shape == (10,)
    assert ref.sum() == 3000
    np.testing.assert_array_equal(got, ref)


class BatchSizes(torch.nn.Module):
    """``mlp()``, recording the rows of every forward pass."""

    def __init__(self):
        super().__init__()
        self.net, self.sizes = mlp(), []

    def forward(self, x):
        self.sizes.append(x.shape[0])
        return self.net(x)


@pytest.mark.parametrize("span_values", [1, 60_000, 1 << 21])
def test_batches_drawn_ahead_count_as_a_plain_loop_over_the_draws(monkeypatch, span_values):
    """Small inputs are drawn and transformed several batches ahead of their forward
    passes (spans of at most ``_SPAN_VALUES`` values). One batch a span, three (900 rows:
    spans of 900, 900 and 500, the last batch 200 rows) and one span for all rows give,
    for each noise, the counts of a plain loop: every draw of the stream transformed,
    classified and counted; and the model sees batches of the size asked for."""
    monkeypatch.setattr(sampler, "_SPAN_VALUES", span_values)
    n, batch, dim = 2300, 300, 64
    x = torch.rand(dim, generator=torch.Generator().manual_seed(2))
    noises = [Gaussian(0.5, dim), Laplace.matched(0.5, dim), MixedNorm.matched(0.5, dim, k=4.0)]
    model = BatchSizes()
    got = count_predictions(
        model, x, noises, n, seed=3, index=5, stream=ESTIMATION, batch_size=batch
    )
    assert sorted(model.sizes) == [200] * 3 + [batch] * 7 * 3
    G = DrawStream(3, 5, ESTIMATION, dim).rows(0, n)
    with torch.inference_mode():
        for noise, counts in zip(noises, got, strict=True):
            inputs = noise.perturb(x, Batch(G), out=torch.empty(n, dim))
            predicted = model.net(inputs).argmax(dim=1)
            np.testing.assert_array_equal(counts, np.bincount(predicted.numpy(), minlength=10))


def test_selection_and_estimation_count_their_own_streams():
    """CERTIFY needs the n estimation draws independent of the n0 that chose the class:
    ``certify_counts`` counts stream SELECTION for the one and ESTIMATION for the other,
    and the two differ (a model whose class follows one coordinate's sign shows it)."""

    class Sign(torch.nn.Module):
        def forward(self, x):
            return torch.stack([torch.zeros_like(x[:, 0]), x[:, 0]], dim=1)

    x, noises = torch.zeros(4), [Gaussian(1.0, 4)]
    got = certify_counts(Sign(), x, noises, 300, 300, seed=5, index=2)
    selection = count_predictions(Sign(), x, noises, 300, seed=5, index=2, stream=SELECTION)
    estimation = count_predictions(Sign(), x, noises, 300, seed=5, index=2, stream=ESTIMATION)
    np.testing.assert_array_equal(got.selection, selection)
    np.testing.assert_array_equal(got.estimation, estimation)
    assert (selection != estimation).any()


def test_estimation_must_have_the_selections_classes():
    class Grows(torch.nn.Module):
        """Two classes for the first call (the selection), three afterwards."""

        def __init__(self):
            super().__init__()
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            return torch.zeros(x.shape[0], 2 if self.calls == 1 else 3)

    with pytest.raises(ValueError, match="expected 2"):
        certify_counts(Grows(), torch.zeros(4), [Gaussian(1.0, 4)], 10, 10, seed=0, index=0)


def test_noises_share_draws_and_streams_are_separate():
    model = mlp()
    x = torch.rand(64)
    a, b = Gaussian(0.25, 64), Gaussian(0.5, 64)
    joint = count_predictions(model, x, [a, b], 2000, seed=3, index=1, stream=ESTIMATION)
    np.testing.assert_array_equal(
        joint[0], sample_counts(model, x, a, 2000, seed=3, index=1, stream=ESTIMATION)
    )
    np.testing.assert_array_equal(
        joint[1], sample_counts(model, x, b, 2000, seed=3, index=1, stream=ESTIMATION)
    )
    cc = certify_counts(model, x, [a], 100, 2000, seed=3, index=1)
    assert cc.selection.sum() == 100 and cc.estimation.sum() == 2000


def test_linear_classifier_certificate_is_sound_and_tight():
    """The smoothed hyperplane classifier's exact robust radius is the distance to the
    hyperplane (Cohen et al. 2019, linear case); certificates must never exceed it and
    should come within a few percent of it at large n."""
    dim, sigma = 64, 0.25
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(dim, generator=gen)
    x = torch.rand(dim, generator=gen)
    distance = 0.5
    b = float(distance * w.norm() - w @ x)  # w.x + b = 0.5 ||w||: x lies 0.5 from the plane
    model = Hyperplane(w, b)
    noise = Gaussian(sigma, dim)
    n = 200_000
    counts = sample_counts(
        model, x, noise, n, seed=5, batch_size=10_000, index=0, stream=ESTIMATION
    )
    assert counts[1] / n == pytest.approx(norm.cdf(distance / sigma), abs=3e-3)
    c = certifiers.get("cohen")
    for alpha in (0.001, 0.01):
        p_lower = clopper_pearson_lower(int(counts[1]), n, alpha)
        r2 = c.radius(noise, p_lower, norm="l2")
        assert r2 <= distance
        assert r2 >= 0.97 * distance
        # l-inf and l1 distances to the plane: |w.x + b| / ||w||_1 and / ||w||_inf
        margin = distance * float(w.norm())
        assert c.radius(noise, p_lower, norm="linf") <= margin / float(w.abs().sum())
        assert c.radius(noise, p_lower, norm="l1") <= margin / float(w.abs().max())


def test_nan_logits_are_refused():
    class NaNModel(torch.nn.Module):
        def forward(self, x):
            return torch.full((x.shape[0], 3), math.nan)

    with pytest.raises(ValueError, match="NaN"):
        sample_counts(
            NaNModel(), torch.zeros(4), Gaussian(1.0, 4), 10, seed=0, index=0, stream=ESTIMATION
        )


def test_shape_the_model_rejects_is_a_clear_error():
    model = torch.nn.Linear(10, 3)
    with pytest.raises(ValueError, match="rejected inputs of shape"):
        sample_counts(
            model, torch.zeros(2, 5), Gaussian(1.0, 10), 10, seed=0, index=0, stream=ESTIMATION
        )


@pytest.mark.parametrize("n", [0, -5, 2.5, True])
def test_bad_n(n):
    with pytest.raises(ValueError):
        sample_counts(
            mlp(), torch.zeros(64), Gaussian(1.0, 64), n, seed=0, index=0, stream=ESTIMATION
        )


def test_at_least_one_noise_is_needed():
    with pytest.raises(ValueError, match="at least one noise"):
        count_predictions(mlp(), torch.zeros(64), [], 10, seed=0, index=0, stream=ESTIMATION)


def test_noise_dim_must_match_input():
    with pytest.raises(ValueError, match="dim"):
        sample_counts(
            mlp(), torch.zeros(64), Gaussian(1.0, 63), 10, seed=0, index=0, stream=ESTIMATION
        )


# the loop on the device ---------------------------------------------------------------------
def _every_family(dim):
    from harness.noise import noise_class, noise_families

    return [n for family in noise_families() for n in noise_class(family).examples(dim)]


class _NoHost:
    """Make every way a tensor reaches the host raise while the sampling loop runs."""

    METHODS = ("cpu", "numpy", "item", "tolist", "__bool__", "__float__", "__int__", "__array__")

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def __enter__(self):
        def refuse(name):
            def method(*args, **kwargs):
                raise AssertionError(f"Tensor.{name} was called inside the sampling loop")

            return method

        for name in self.METHODS:
            self.monkeypatch.setattr(torch.Tensor, name, refuse(name))
        return self

    def __exit__(self, *exc):
        self.monkeypatch.undo()


def test_the_sampling_loop_never_leaves_torch(monkeypatch):
    """Draws, every family's transform, the forward pass, counting and the NaN check stay
    in torch tensors (on a GPU: on the device, with no host synchronization): no host
    conversion is reached while counting an image once the run's workspace holds its
    buffers and the noises' tables are built (both happen on the first image)."""
    dim = 64
    noises = _every_family(dim)
    model, x = mlp(dim), torch.rand(dim)
    workspace = Workspace()
    count_on_device(
        model,
        x,
        noises,
        10,
        seed=1,
        index=2,
        batch_size=700,
        workspace=workspace,
        stream=ESTIMATION,
    )
    with _NoHost(monkeypatch):
        counts, nan_rows = count_on_device(
            model,
            x,
            noises,
            2500,
            seed=1,
            index=3,
            batch_size=700,
            workspace=workspace,
            stream=ESTIMATION,
        )
    assert counts.shape == (len(noises), 10) and int(counts.sum(dim=1).min()) == 2500
    assert int(nan_rows.sum()) == 0
    # and the patch is effective: a host conversion in the loop is caught
    with _NoHost(monkeypatch), pytest.raises(AssertionError, match="inside the sampling loop"):
        torch.zeros(3).numpy()


def test_the_device_draws_never_leave_torch(monkeypatch):
    """The GPU's draws (torch's generator, torch's Box-Muller), run here on the CPU: no
    host conversion once the stream's buffers exist, and the same rows as without the
    patch (a whole chunk, a prefix, rows that start inside a chunk)."""
    workspace = Workspace()
    stream = DrawStream(5, 1, ESTIMATION, 300, source="torch", workspace=workspace)
    out = torch.empty(1500, 300)
    stream.fill(out[:10], 0)
    with _NoHost(monkeypatch):
        stream.fill(out[:1200], 0)
        stream.fill(out[1200:], 1200)
    assert torch.equal(out, DrawStream(5, 1, ESTIMATION, 300, source="torch").rows(0, 1500))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize(
    "options",
    [None, SamplerOptions(autocast="bf16", channels_last=True)],
    ids=["fp32", "bf16-channels_last"],
)
def test_no_host_synchronization_on_a_gpu(options):
    """A whole call waits for the device nowhere: the image comes from the host, and the
    noises' tables were prepared for ``"cuda"`` while the model is on ``cuda:0`` (the same
    device: a table kept under the other name would be copied again, a synchronization).
    Only the caller reads the counts back."""
    dim = 3 * 8 * 8
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(144, 10)
    )
    model = prepare_model(model.cuda(), options, sample_ndim=3)
    x = torch.rand(3, 8, 8)
    workspace = Workspace()
    call = {"seed": 0, "index": 0, "stream": ESTIMATION, "options": options,
            "n": 3000, "batch_size": 1000, "workspace": workspace}  # fmt: skip
    count_on_device(model, x, [Gaussian(0.5, dim)], **call)  # a warm-up: libraries, buffers
    noises = _every_family(dim)
    for noise in noises:
        noise.prepare("cuda")
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        counts, bad = count_on_device(model, x, noises, **call)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert int(counts.sum()) == 3000 * len(noises) and int(bad.sum()) == 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_pinned_image_is_read_before_the_call_returns():
    """From pinned memory a non-blocking copy runs only when the device reaches it, so a
    caller that reuses the image's buffer as soon as the call returns would change what is
    sampled. The device is kept busy for about a second first, so that a queued copy would
    read the buffer after it was overwritten with NaN."""
    dim = 64
    model, x, noise = mlp(dim).cuda(), torch.rand(dim), Gaussian(0.5, dim)
    call = {"seed": 0, "index": 0, "stream": ESTIMATION, "n": 2000, "batch_size": 1000}
    expected, _ = count_on_device(model, x, [noise], **call)
    pinned = x.clone().pin_memory()
    torch.cuda.synchronize()
    torch.cuda._sleep(1 << 31)
    counts, bad = count_on_device(model, pinned, [noise], **call)
    pinned.fill_(float("nan"))
    assert int(bad.sum()) == 0 and torch.equal(counts, expected)


def test_gpu_options_run_on_any_device_and_keep_the_noise_float32():
    model, x = mlp(), torch.rand(1, 8, 8)
    noise = Gaussian(0.25, 64)
    plain = sample_counts(model, x, noise, 2000, seed=2, index=0, stream=ESTIMATION)
    for options in (SamplerOptions(autocast="bf16"), SamplerOptions(channels_last=True)):
        counts = sample_counts(
            model, x, noise, 2000, seed=2, options=options, index=0, stream=ESTIMATION
        )
        assert counts.sum() == 2000
        # bf16 changes a few predictions at most; channels_last none (2-D input)
        assert np.abs(counts - plain).sum() <= 0.05 * 2000
    with pytest.raises(ValueError, match="autocast"):
        SamplerOptions(autocast="int8")
    assert SamplerOptions(autocast="fp16").manifest()["noise_dtype"] == "float32"


def test_batch_size_is_chosen_when_not_given():
    model, x = mlp(), torch.rand(64)
    # a chunk of 1000 rows, or a divisor of it for large inputs
    assert auto_batch_size(model, x, 50_000) == 1000 and auto_batch_size(model, x, 300) == 300
    assert auto_batch_size(model, torch.rand(3, 32, 32), 50_000) == 1000
    assert auto_batch_size(model, torch.rand(3, 224, 224), 50_000) == 100
    noise = Gaussian(0.5, 64)
    np.testing.assert_array_equal(
        sample_counts(model, x, noise, 2300, seed=4, batch_size=None, index=0, stream=ESTIMATION),
        sample_counts(model, x, noise, 2300, seed=4, batch_size=2300, index=0, stream=ESTIMATION),
    )


def test_prepare_model_converts_once_as_the_options_ask(monkeypatch):
    compiled = []
    monkeypatch.setattr(torch, "compile", lambda m: compiled.append(m) or m)
    conv = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten())
    out = prepare_model(conv, SamplerOptions(channels_last=True, compile=True), sample_ndim=3)
    assert compiled == [conv] and not out.training
    assert conv[0].weight.is_contiguous(memory_format=torch.channels_last)
    flat = torch.nn.Linear(4, 2)
    prepare_model(flat, SamplerOptions(channels_last=True), sample_ndim=1)  # not an image
    assert flat.weight.is_contiguous()


# checks on what the model returns and on the noisy inputs -----------------------------------
class _Returns(torch.nn.Module):
    """A model whose logits are ``make(batch_rows)``."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def forward(self, x):
        return self.make(x.shape[0])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda b: torch.randn(b + 1, 3), "returned 1001 logit rows for 1000 inputs"),
        (lambda b: torch.randn(b - 4, 3), "returned 996 logit rows for 1000 inputs"),
        (lambda b: torch.ones(b, 3, dtype=torch.bool), "dtype torch.bool"),
        (lambda b: torch.ones(b, 3, dtype=torch.int64), "dtype torch.int64"),
        (lambda b: torch.randn(b, 3, dtype=torch.complex64), "dtype torch.complex64"),
        (lambda b: torch.zeros(b, 0), "0 logit\\(s\\) per input"),
        (lambda b: torch.zeros(b, 1), "1 logit\\(s\\) per input"),
        (lambda b: torch.zeros(b), "must return logits of shape \\(batch, num_classes\\)"),
    ],
)
def test_what_the_model_returns_is_checked(make, message):
    with pytest.raises(ValueError, match=f"model _Returns {message}|model _Returns.*{message}"):
        sample_counts(
            _Returns(make), torch.zeros(4), Gaussian(1.0, 4), 3000, seed=0, index=0,
            stream=ESTIMATION, batch_size=1000,
        )  # fmt: skip


def test_the_class_count_may_not_change_between_batches():
    calls = []

    def make(b):
        calls.append(b)
        return torch.randn(b, 3 if len(calls) == 1 else 4)

    with pytest.raises(ValueError, match="returned 4 logits, expected 3"):
        sample_counts(_Returns(make), torch.zeros(4), Gaussian(1.0, 4), 300, seed=0,
                      index=0, stream=ESTIMATION, batch_size=100)  # fmt: skip


def test_the_logit_dtype_may_not_change_between_batches():
    calls = []

    def make(b):
        calls.append(b)
        return torch.randn(b, 3, dtype=torch.float32 if len(calls) == 1 else torch.float64)

    with pytest.raises(ValueError, match="logits of dtype torch.float64 after .* torch.float32"):
        sample_counts(_Returns(make), torch.zeros(4), Gaussian(1.0, 4), 300, seed=0,
                      index=0, stream=ESTIMATION, batch_size=100)  # fmt: skip


@pytest.mark.parametrize("sigma", [1e300, 1e39, 3e38])
def test_non_finite_noisy_inputs_are_refused(sigma):
    """sigma = 1e300 (or 1e39) overflows float32 to inf when the noise is made ready; 3e38
    is a float32 number, but its products with draws above 1.14 overflow in the batch, which
    only the per-batch check sees. A model that maps inf to finite logits (here: clamps)
    would otherwise count garbage silently."""

    class Clamps(torch.nn.Module):
        def forward(self, x):
            x = x.clamp(-1, 1)
            return torch.stack([x.sum(dim=1), -x.sum(dim=1)], dim=1)

    with pytest.raises(ValueError, match="non-finite"):
        sample_counts(Clamps(), torch.zeros(4), Gaussian(sigma, 4), 100, seed=0, index=0,
                      stream=ESTIMATION)  # fmt: skip


def test_count_totals_are_checked_before_they_are_returned(monkeypatch):
    import harness.sampler as sampler

    real = sampler.count_on_device

    def loses_one(*args, **kwargs):
        counts, bad = real(*args, **kwargs)
        counts = counts.clone()
        counts[0, 0] -= 1
        return counts, bad

    monkeypatch.setattr(sampler, "count_on_device", loses_one)
    with pytest.raises(ValueError, match="total \\[99\\], not n = 100"):
        sample_counts(mlp(), torch.zeros(64), Gaussian(1.0, 64), 100, seed=0, index=0,
                      stream=ESTIMATION)  # fmt: skip


def test_index_and_stream_must_be_given():
    """Two calls at the same (seed, index, stream) return the same counts: a default
    address would let selection and estimation silently share their draws."""
    for call in (sample_counts, count_predictions):
        noise = Gaussian(1.0, 64) if call is sample_counts else [Gaussian(1.0, 64)]
        with pytest.raises(TypeError, match="index"):
            call(mlp(), torch.zeros(64), noise, 10, seed=0, stream=ESTIMATION)
        with pytest.raises(TypeError, match="stream"):
            call(mlp(), torch.zeros(64), noise, 10, seed=0, index=0)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_reduced_precision_inputs_are_upcast_and_the_noise_stays_float32(dtype):
    """A bf16/fp16 image is read as float32 (exactly: every bf16/fp16 value is a float32
    value); the noise is drawn and added in float32, so the counts are those of the same
    image given in float32."""
    model = mlp()
    x = torch.rand(64).to(dtype)
    noise = Gaussian(0.25, 64)
    kwargs = {"seed": 3, "index": 2, "stream": ESTIMATION}
    np.testing.assert_array_equal(
        sample_counts(model, x, noise, 2000, **kwargs),
        sample_counts(model, x.float(), noise, 2000, **kwargs),
    )


def test_a_failing_task_names_its_model_and_image():
    from harness.executors.base import ImageTask, SamplingPlan, sample_task

    task = ImageTask("my-model", 17, 0, torch.zeros(4), ("g",))
    plan = SamplingPlan(0, 10, 100, 100, SamplerOptions())
    with pytest.raises(ValueError, match="model my-model, image 17: model _Returns returned"):
        sample_task(_Returns(lambda b: torch.randn(b + 1, 3)), {"g": Gaussian(1.0, 4)}, task, plan)


def test_a_bad_batch_anywhere_is_refused():
    """The finiteness checks are per batch: one infinite top logit in the last, partial
    batch of an image is caught, and named as the model's."""

    class InfOnce(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            logits = torch.stack([x.sum(dim=1), -x.sum(dim=1)], dim=1)
            if self.calls == 3:  # the third batch: rows 200-249 of 250
                logits[-1, 0] = math.inf
            return logits

    with pytest.raises(ValueError, match="NaN or infinite logits .* in 1 batch"):
        sample_counts(InfOnce(), torch.zeros(4), Gaussian(1.0, 4), 250, seed=0, index=0,
                      stream=ESTIMATION, batch_size=100)  # fmt: skip
    finite = InfOnce()
    finite.calls = 10  # never 3 again: the same draws pass
    counts = sample_counts(finite, torch.zeros(4), Gaussian(1.0, 4), 250, seed=0, index=0,
                           stream=ESTIMATION, batch_size=100)  # fmt: skip
    assert counts.sum() == 250


@pytest.mark.parametrize("span_values", [1, 1200, 1 << 21])
def test_every_bad_batch_is_counted_whatever_the_span(monkeypatch, span_values):
    """The finiteness checks are reduced once per span but counted per batch: 650 rows in
    batches of 100 (the last of 50), in spans of one batch, of three, or all in one.
    A NaN or infinite top logit in batches 2, 4 and 7 makes three bad batches; a noise
    that overflows float32 makes all seven bad."""

    class InfAt(torch.nn.Module):
        """Non-finite top logits in batches 2, 4 and 7 of the first noise, the one whose
        inputs are finite."""

        def __init__(self):
            super().__init__()
            self.calls = 0

        def forward(self, x):
            total = x.clamp(-1, 1).sum(dim=1)  # finite logits for infinite inputs
            logits = torch.stack([total, -total], dim=1)
            if torch.isfinite(x).all():
                self.calls += 1
                if self.calls in (2, 4, 7):
                    logits[self.calls % 5, 1] = math.nan if self.calls == 4 else math.inf
            return logits

    monkeypatch.setattr(sampler, "_SPAN_VALUES", span_values)
    kwargs = {"seed": 0, "index": 0, "stream": ESTIMATION, "batch_size": 100}
    counts, bad = count_on_device(
        InfAt(), torch.zeros(4), [Gaussian(1.0, 4), Gaussian(3e38, 4)], 650, **kwargs
    )
    assert bad.tolist() == [[0, 3], [7, 0]]
    assert counts.sum(dim=1).tolist() == [650, 650]


@pytest.mark.parametrize("batch", [7, 1000, 3000])
def test_progress_within_an_image_counts_every_row_once(batch):
    """``on_rows`` is told each span's rows after all its noises: n0 + n in all, the same
    counts as without it, and the executor's bar shows the share of the image."""
    from tqdm import tqdm

    from harness.executors.local import WithinImage

    model, x = mlp(), torch.rand(1, 8, 8)
    noises = [Gaussian(0.5, 64), Laplace.matched(0.5, 64)]
    told: list[int] = []
    got = certify_counts(
        model, x, noises, 100, 2500, seed=3, index=1, batch_size=batch, on_rows=told.append
    )
    ref = certify_counts(model, x, noises, 100, 2500, seed=3, index=1, batch_size=batch)
    assert sum(told) == 2600 and min(told) > 0
    np.testing.assert_array_equal(got.estimation, ref.estimation)
    with tqdm(total=1, disable=True) as bar:
        within = WithinImage(bar, 2600, every=0.0)
        shown = []
        for rows in told:
            within(rows)
            shown.append(bar.postfix)
        done = np.cumsum(told)[:-1]
        assert shown[:-1] == [f"this image {100 * d / 2600:.0f}%" for d in done]
        within.next_image()
        assert within.done == 0 and not bar.postfix
        slow = WithinImage(bar, 2600, every=3600.0)  # an image faster than that shows nothing
        for rows in told:
            slow(rows)
        assert not bar.postfix
