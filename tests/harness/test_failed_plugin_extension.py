"""An extension whose plugin noise fails on its first image leaves no count of that
noise, but the store already records the plugin's source: the plugin, mended, resumes
the extension (a source is bound only once its family has counts), and the edit of a
family that has counts is still refused."""

from __future__ import annotations

import textwrap

import pytest

from harness import runner
from harness.config import parse
from harness.store import Store
from smoothbench.plugins import load_plugin
from tests.plugin_state import plugins_undone

RUN = {"name": "x", "dataset": "digits", "seed": 3, "n_test": 3, "n0": 16, "n": 200,
       "batch_size": 216, "device": "cpu"}  # fmt: skip
MODEL = {"recipe": "mlp", "sigma0": 0.25, "name": "a"}

PLUGIN = """
import torch
from scipy import stats
from harness.noise import CoordinateNoise, register_noise
from harness.noise.params import check_dim, check_positive_finite


@register_noise("{family}")
class Fam(CoordinateNoise):
    scale_param = "scale"

    def __init__(self, scale: float, dim: int) -> None:
        self.scale = check_positive_finite("scale", scale)
        self.dim = check_dim(dim)

    def coordinate_law(self):
        return stats.norm(scale=self.scale)

    def coordinate_map(self, G):
        {body}

    def coordinate_log_prob(self, x):
        return -0.5 * (x / self.scale) ** 2

    def second_moment(self) -> float:
        return self.dim * self.scale**2
"""
BROKEN = (  # NaN wherever |G| > 2.5: the sampler refuses the first batch
    'g = G.to(torch.float64); return torch.where(g.abs() > 2.5, float("nan"), self.scale * g)'
)
MENDED = "return self.scale * G.to(torch.float64)"


def _plugin(path, body):
    path.write_text(textwrap.dedent(PLUGIN).format(family="mended_noise", body=body))
    load_plugin(str(path))


def config(noises, plugin):
    certify = {"certifiers": ["cohen"], "alpha": [0.001]}
    run = {**RUN, "plugins": [str(plugin)]}
    return parse({"run": run, "models": [MODEL], "noises": noises, "certify": certify})


@pytest.mark.filterwarnings("ignore:config key 'noises.1.'")
def test_a_plugin_mended_after_its_extension_failed_resumes_it(tmp_path, clean_registries):
    plugin, store = tmp_path / "mended_noise.py", tmp_path / "s.sqlite"
    gaussian, added = {"family": "gaussian"}, {"family": "mended_noise"}
    with plugins_undone():  # each version of the file loaded afresh, as by a new process
        _plugin(plugin, BROKEN)
        runner.run(config([gaussian], plugin), store, progress=False)
        with pytest.raises(ValueError, match="non-finite .* the noise gave NaN"):
            runner.run(config([gaussian, added], plugin), store, progress=False)
    with Store(store) as st:
        assert not st.query("SELECT 1 FROM counts WHERE noise LIKE 'mended_noise%'")
    with plugins_undone():
        _plugin(plugin, MENDED)
        runner.run(config([gaussian, added], plugin), store, progress=False)
    with Store(store) as st:
        families = {n.split("(")[0] for (n,) in st.query("SELECT DISTINCT noise FROM counts")}
    assert families == {"gaussian", "mended_noise"}
    with plugins_undone():  # now the family has counts: an edit of its plugin is refused
        _plugin(plugin, "return 2 * self.scale * G.to(torch.float64)")
        with pytest.raises(ValueError, match="noise plugins' source differs"):
            runner.run(config([gaussian, added], plugin), store, progress=False)


@pytest.mark.filterwarnings("ignore:config key 'noises.1.'")
def test_a_plugin_transform_of_the_wrong_shape_is_refused_naming_the_noise(tmp_path):
    """Refused before the store is touched, with the noise named (it was an 'internal
    error' from the coupling's copy, naming nothing)."""
    plugin = tmp_path / "mended_noise.py"
    with plugins_undone():
        _plugin(plugin, "return (self.scale * G.to(torch.float64))[..., :-1]")
        with pytest.raises(ValueError, match=r"noise mended_noise\(.*transform\(G\) failed"):
            runner.run(config([{"family": "gaussian"}, {"family": "mended_noise"}], plugin),
                       tmp_path / "s.sqlite", progress=False)  # fmt: skip
    assert not (tmp_path / "s.sqlite").exists()


def test_a_built_in_familys_error_stays_an_internal_error(monkeypatch):
    """Only a plugin's transform is the user's to mend: a built-in family's error is not
    turned into bad input (it keeps its kind, so the command line calls it internal)."""
    from harness.noise import Gaussian
    from harness.noise.preflight import check_perturb

    def broken(self, G):
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(Gaussian, "transform", broken)
    with pytest.raises(RuntimeError, match="a bug of ours"):
        check_perturb(Gaussian(0.25, 64))
