"""A config that adds models or noises to a stored run, all else equal, extends it: only
the missing counts are sampled (the new (model, noise) pairs'), on the base draws every
model and noise of an image shares, so the store ends as a run of the whole config from
the start writes it. A stored model or noise left out, or changed, is still refused."""

from __future__ import annotations

import pytest

from harness import runner
from harness.config import parse
from harness.store import Store
from tests.harness.test_runner import snapshot

RUN = {"name": "x", "dataset": "digits", "seed": 3, "n_test": 5, "n0": 20, "n": 400,
       "batch_size": 200}  # fmt: skip
MODEL_A = {"recipe": "mlp", "sigma0": 0.25, "name": "a"}
MODEL_B = {"recipe": "mlp", "sigma0": 0.5, "name": "b"}
GAUSSIAN = {"family": "gaussian"}
LAPLACE = {"family": "laplace"}
# mixed_norm's coupling is at version 2: its family adds a key to the identity
ADDED_NOISES = [{"family": "generalized_gaussian", "k": [8]}, {"family": "mixed_norm", "k": [4]}]


def config(models, noises, **run):
    certify = {"certifiers": ["cohen", "fdiv-kl", "functional"], "alpha": [0.001]}
    return parse({"run": {**RUN, **run}, "models": models, "noises": noises, "certify": certify})


def _counts_with_seconds(path):
    with Store(path) as st:
        return {row[:3]: row for row in st.table_rows("counts")}


def test_an_extended_store_equals_a_run_of_the_whole_config(tmp_path, capsys):
    whole = config([MODEL_A, MODEL_B], [GAUSSIAN, LAPLACE, *ADDED_NOISES])
    full = runner.run(whole, tmp_path / "full.sqlite", progress=False)
    part = tmp_path / "part.sqlite"
    runner.run(config([MODEL_A], [LAPLACE, GAUSSIAN]), part, progress=False)
    before = _counts_with_seconds(part)
    assert len(before) == 5 * 2
    runner.run(whole, part, progress=True)
    assert snapshot(full) == snapshot(part)
    after = _counts_with_seconds(part)
    assert len(after) == 5 * 2 * 4
    # the stored counts were kept as they were (their sampling seconds too): not sampled again
    assert all(after[key] == row for key, row in before.items())
    said = capsys.readouterr().err
    assert "extending" in said and "model b" in said and "noise mixed_norm(k=4)" in said
    assert "the 10 (model, noise, image) counts stored are kept" in said
    with Store(part) as st:
        sessions = st.get_manifest("sessions")
        assert st.get_manifest("noise_couplings") == {"mixed_norm": 2}
    assert "added" not in sessions[0]
    added = sessions[1]["added"]
    assert added["models"] == ["b"]
    assert sorted(t["family"] for t in added["noises"]) == ["generalized_gaussian", "mixed_norm"]


def test_an_extension_stopped_midway_resumes_to_the_same_store(tmp_path):
    whole = config([MODEL_A, MODEL_B], [GAUSSIAN, ADDED_NOISES[0]])
    full = runner.run(whole, tmp_path / "full.sqlite", progress=False)
    part = tmp_path / "part.sqlite"
    runner.run(config([MODEL_A], [GAUSSIAN]), part, progress=False, certify=False)
    runner.run(whole, part, progress=False, stop_after=3, certify=False)
    runner.run(whole, part, progress=False)
    assert snapshot(full) == snapshot(part)
    with Store(part) as st:
        sessions = st.get_manifest("sessions")
    # the second session added them; the third resumed them, adding nothing
    assert [bool(s.get("added")) for s in sessions] == [False, True, False]


@pytest.mark.parametrize(
    "models,noises,message",
    [
        # a stored model left out (another added in its place)
        ([MODEL_B], [GAUSSIAN, LAPLACE], "'models.a': stored .*, now absent"),
        # a stored noise left out (another added beside the one kept)
        ([MODEL_A], [GAUSSIAN, ADDED_NOISES[0]], "sampling_config.noises"),
        # a stored model changed while another is added
        ([{**MODEL_A, "sigma0": 0.5}, MODEL_B], [GAUSSIAN, LAPLACE], "'models.a.sha256'"),
    ],
)
def test_a_stored_model_or_noise_left_out_or_changed_is_refused(tmp_path, models, noises, message):
    path = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A], [GAUSSIAN, LAPLACE]), path, progress=False, certify=False)
    before = _counts_with_seconds(path)
    with pytest.raises(ValueError, match=message):
        runner.run(config(models, noises), path, progress=False)
    assert _counts_with_seconds(path) == before


def test_an_addition_does_not_hide_another_difference(tmp_path):
    path = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A], [GAUSSIAN]), path, progress=False, certify=False)
    with pytest.raises(ValueError, match="differs in 'seed'"):
        runner.run(config([MODEL_A, MODEL_B], [GAUSSIAN], seed=4), path, progress=False)
    with pytest.raises(ValueError, match="differs in 'n'"):
        runner.run(config([MODEL_A], [GAUSSIAN, LAPLACE], n=500), path, progress=False)
    with pytest.raises(ValueError, match="sampling_config.run.autocast"):
        runner.run(config([MODEL_A], [GAUSSIAN, LAPLACE], autocast="bf16"), path, progress=False)


def test_a_stored_familys_coupling_record_gone_is_refused(tmp_path, monkeypatch):
    """A family whose coupling went back to version 1 leaves ``noise_couplings`` out of
    the identity: the stored record is compared all the same (it was skipped, with the
    key absent from the new identity, before extension came)."""
    from harness.noise import noise_class

    path = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A], [ADDED_NOISES[1]]), path, progress=False, certify=False)
    monkeypatch.setattr(noise_class("mixed_norm"), "coupling_version", 1)
    with pytest.raises(ValueError, match="differs in 'noise_couplings'"):
        runner.run(config([MODEL_A], [ADDED_NOISES[1]]), path, progress=False)


def test_a_stored_model_left_out_beside_one_kept_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A, MODEL_B], [GAUSSIAN]), path, progress=False, certify=False)
    with pytest.raises(ValueError, match="'models.b': stored .*, now absent"):
        runner.run(config([MODEL_A], [GAUSSIAN, LAPLACE]), path, progress=False)


def test_an_extension_stopped_midway_is_a_gap_in_the_sampling(tmp_path):
    """The images of a model count as sampled under every noise the run planned for it
    (the manifest's ``sampled_noises``), not under those it has counts of: an extension
    stopped after one model took the new noise, and before the other did, is a gap, and
    so is one stopped after 2 of 5 images (the stopped run's message says so too)."""
    from harness.cli.run_command import _stored
    from harness.sampling_progress import sampling_progress

    two = tmp_path / "two.sqlite"
    runner.run(config([MODEL_A, MODEL_B], [GAUSSIAN]), two, progress=False, certify=False)
    runner.run(config([MODEL_A, MODEL_B], [GAUSSIAN, LAPLACE]), two, progress=False,
               stop_after=5, certify=False)  # fmt: skip
    with Store(two) as st:
        assert sampling_progress(st).sampled == {"a": 5, "b": 0}
        planned = st.get_manifest("sampled_noises")
    assert sorted(planned) == ["a", "b"] and all(len(names) == 2 for names in planned.values())
    assert _stored(two) == f"5 of 5 images of a, 0 of 5 images of b stored in {two}"
    one = tmp_path / "one.sqlite"
    runner.run(config([MODEL_A], [GAUSSIAN]), one, progress=False, certify=False)
    runner.run(config([MODEL_A], [GAUSSIAN, LAPLACE]), one, progress=False, stop_after=2,
               certify=False)  # fmt: skip
    with Store(one) as st:
        progress = sampling_progress(st)
    assert progress.gap().startswith("2 of 5 images under laplace(")  # the noise short
    assert _stored(one) == f"2 of 5 images stored in {one}"
    runner.run(config([MODEL_A], [GAUSSIAN, LAPLACE]), one, progress=False, certify=False)
    with Store(one) as st:
        assert sampling_progress(st).gap() is None


def test_each_session_records_the_batch_its_models_took(tmp_path):
    """Without a batch size in the config, each session records the one every model
    took (on the CPU one chunk, 1000 rows, at most n), also when it was stopped."""
    path = tmp_path / "s.sqlite"
    run = {k: v for k, v in RUN.items() if k != "batch_size"}
    plain = parse({"run": run, "models": [MODEL_A], "noises": [GAUSSIAN]})
    runner.run(plain, path, progress=False, stop_after=2, certify=False)
    with Store(path) as st:
        assert st.get_manifest("sessions")[-1]["batch_chosen"] == {"a": 400}  # n = 400
    runner.run(config([MODEL_A], [GAUSSIAN]), path, progress=False, certify=False)
    with Store(path) as st:
        assert "batch_chosen" not in st.get_manifest("sessions")[-1]  # given: 200


def _short(sigmas, **run):
    run = {**RUN, "arch": "mlp", "train_sigmas": sigmas, **run}
    return parse({"run": run, "noises": [GAUSSIAN], "certify": {"certifiers": ["cohen"]}})


def test_a_training_sigma_added_in_the_short_form_extends_the_store(tmp_path):
    """``run.arch`` with ``run.train_sigmas``: a sigma added is a model added, as with
    ``[[models]]`` (it was refused as a changed ``sampling_config``, the advice to delete
    the store); a stored sigma left out, or another difference beside the addition, is
    still refused."""
    path = tmp_path / "s.sqlite"
    runner.run(_short([0.25]), path, progress=False, certify=False)
    before = _counts_with_seconds(path)
    with pytest.raises(ValueError, match="'models.digits-mlp-sigma0.25': stored .*, now absent"):
        runner.run(_short([0.5]), path, progress=False, certify=False)
    with pytest.raises(ValueError, match="differs in 'seed'"):
        runner.run(_short([0.25, 0.5], seed=4), path, progress=False, certify=False)
    assert _counts_with_seconds(path) == before
    runner.run(_short([0.25, 0.5]), path, progress=False, certify=False)
    after = _counts_with_seconds(path)
    assert len(after) == 2 * len(before) and all(after[k] == row for k, row in before.items())
    whole = runner.run(
        _short([0.25, 0.5]), tmp_path / "whole.sqlite", progress=False, certify=False
    )
    assert snapshot(whole) == snapshot(path)
