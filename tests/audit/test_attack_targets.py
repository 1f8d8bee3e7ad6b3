"""What the attack audit attacks: per (model, noise, norm) the first ``images`` images
certified with a positive radius at the store's smallest alpha, with the forward pass the
run certified them with; and a store whose model, rebuilt here, has other weights than
those certified is refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from baselines.models import ModelEntry
from baselines.nets.normalize import NormalizeLayer, centering_layer
from harness.audit import attack, run
from harness.audit.attack import AttackSettings
from harness.identity import module_fingerprint
from harness.noise import Gaussian
from harness.sampler import SamplerOptions
from harness.store import CertificateRow
from tests.reports._report_synth import DIM, add_counts, new_store

NOISE = Gaussian(0.25, DIM)


def _store(path):
    store = new_store(path, 6, {"m": 0.25})
    labels = np.arange(6) % 10
    add_counts(store, "m", NOISE, labels, labels, [990] * 6)
    rows = []
    for image in range(6):
        for alpha, radius in ((0.001, 0.1 * image), (0.01, 0.5 + image)):
            rows.append(
                CertificateRow("m", NOISE.name, image, "cohen", "l2", alpha, int(labels[image]),
                               0.9, radius, True, 0.0)
            )  # fmt: skip
    store.put_certificates(rows)
    return store


class _Data:
    def __getitem__(self, i):
        return torch.zeros(DIM), int(i % 10)


def test_the_targets_are_the_first_certified_images_at_the_smallest_alpha(tmp_path):
    store = _store(tmp_path / "s.sqlite")
    models = [ModelEntry("m", torch.nn.Identity(), "0" * 64, 0.25)]
    (target,) = run.smoothed_targets(store, models, _Data(), AttackSettings(images=3))
    assert target.alpha == 0.001
    # image 0 has radius 0 at alpha 0.001 (no certificate): images 1, 2, 3, at their radii
    assert sorted(target.images) == [1, 2, 3]
    assert {i: c["cohen"] for i, (_, _, c) in target.images.items()} == pytest.approx(
        {1: 0.1, 2: 0.2, 3: 0.3}
    )
    store.close()


def test_a_model_rebuilt_with_other_weights_is_refused(tmp_path, monkeypatch):
    store = new_store(tmp_path / "s.sqlite", 2, {"m": 0.25}, config={"run": {}})
    monkeypatch.setattr(run, "parse", lambda raw, source: type("C", (), {
        "dataset": "digits", "data_root": None, "models": []})())  # fmt: skip
    monkeypatch.setattr(run, "load_dataset", lambda *a, **k: _Data())
    rebuilt = [ModelEntry("m", torch.nn.Identity(), "f" * 64, 0.25)]
    monkeypatch.setattr(run, "build_models", lambda *a, **k: rebuilt)
    monkeypatch.setattr(run, "training_bounds", lambda: None)
    with pytest.raises(ValueError, match="its certificates are not about this model"):
        run.load_models(store)
    rebuilt[0] = ModelEntry("m", torch.nn.Identity(), f"{0:064d}", 0.25)  # the stored one
    models, _ = run.load_models(store)
    assert [m.name for m in models] == ["m"]
    store.close()


def test_a_model_rebuilt_from_the_same_file_but_read_otherwise_is_refused(tmp_path, monkeypatch):
    """The same weights behind another first layer (another ``arch`` for one checkpoint)
    are another classifier: the run's fingerprint of the model tells them apart."""
    store = new_store(tmp_path / "s.sqlite", 2, {"m": 0.25}, config={"run": {}})
    plain = torch.nn.Sequential(NormalizeLayer([0.5], [0.25]), torch.nn.Flatten())
    centred = torch.nn.Sequential(centering_layer([0.5]), torch.nn.Flatten())
    models = store.get_manifest("models")
    models["m"]["module"] = module_fingerprint(plain)  # the run read it so
    store.put_manifest({"models": models})
    monkeypatch.setattr(run, "parse", lambda raw, source: type("C", (), {
        "dataset": "digits", "data_root": None, "models": []})())  # fmt: skip
    monkeypatch.setattr(run, "load_dataset", lambda *a, **k: _Data())
    monkeypatch.setattr(run, "training_bounds", lambda: None)
    sha = models["m"]["sha256"]
    rebuilt = [ModelEntry("m", centred, sha, 0.25)]
    monkeypatch.setattr(run, "build_models", lambda *a, **k: rebuilt)
    with pytest.raises(ValueError, match="read otherwise than the run read it"):
        run.load_models(store)
    rebuilt[0] = ModelEntry("m", plain, sha, 0.25)
    assert [m.name for m in run.load_models(store)[0]] == ["m"]
    store.close()


def test_the_targets_carry_the_forward_pass_the_run_certified_with(tmp_path):
    """A run under bf16 autocast certified the bf16 forward pass: the attack's fresh
    estimates must run it too, or they test another base classifier."""
    store = _store(tmp_path / "s.sqlite")
    store.put_manifest({"sampler": SamplerOptions("bf16", True).manifest()})
    models = [ModelEntry("m", torch.nn.Identity(), "0" * 64, 0.25)]
    (target,) = run.smoothed_targets(store, models, _Data(), AttackSettings(images=3))
    assert target.options == SamplerOptions("bf16", True)
    store.close()


@pytest.mark.parametrize("autocast", [None, "bf16", "fp16"])
@pytest.mark.parametrize("channels_last", [False, True])
def test_recorded_sampler_options_read_back(autocast, channels_last):
    options = SamplerOptions(autocast, channels_last, not channels_last)
    assert SamplerOptions.from_manifest(options.manifest()) == options
    assert SamplerOptions.from_manifest(None) == SamplerOptions()


def test_the_fresh_estimates_of_an_image_run_its_options(monkeypatch):
    seen = []

    def fake_counts(model, x, noises, n, **kwargs):
        seen.append(kwargs["options"])
        return np.array([[n, 0]])

    monkeypatch.setattr(attack, "count_predictions", fake_counts)
    monkeypatch.setattr(attack, "attack_smoothed", lambda model, x, *a: torch.zeros_like(x))
    options = SamplerOptions("bf16")
    settings = AttackSettings(growth=1, bisection=1)
    attack.audit_image(
        torch.nn.Identity(), torch.zeros(DIM), NOISE, 0, "l2", {"cohen": 0.1}, settings, 0, options
    )
    assert seen and all(o is options for o in seen)
