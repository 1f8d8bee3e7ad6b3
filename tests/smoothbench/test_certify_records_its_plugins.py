"""``certify --plugin FILE`` records the file in the store's manifest beside the run's, so
that a later command without it names the file to give (it said only "is its plugin
installed?"); what a store records is never dropped by a later command that did not load
it."""

from __future__ import annotations

import textwrap

from certifiers.registry import CERTIFIERS
from harness.cli import main
from harness.store import Store
from smoothbench import plugins
from tests.reports._report_synth import winner_store

PLUGIN = textwrap.dedent(
    """
    from scipy.stats import norm
    from certifiers import Certificate, Certifier, register

    @register("half-cohen")
    class Half(Certifier):
        certificates = {
            ("gaussian", "l2"): Certificate(lambda c, noise, p: 0.5 * noise.sigma * norm.ppf(p)),
        }
    """
)


def test_a_report_without_the_plugin_names_the_file_certify_used(
    tmp_path, clean_registries, capsys
):
    store = tmp_path / "s.sqlite"
    winner_store(store, n_images=30).close()
    plugin = tmp_path / "half_cohen_plugin.py"
    plugin.write_text(PLUGIN)
    argv = ["certify", str(store), "--certifier", "half-cohen", "--norm", "l2"]
    assert main([*argv, "--plugin", str(plugin), "--quiet"]) == 0, capsys.readouterr().err
    with Store(store) as st:
        assert st.get_manifest("plugins") == [str(plugin.resolve())]
        assert ("half-cohen",) in st.query("SELECT DISTINCT certifier FROM certificates")
    CERTIFIERS.unregister("half-cohen")  # as a fresh process, without the file
    plugins._LOADED.clear()
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["report", str(store), "--out", str(out), "--format", "md"]) == 0
    said = capsys.readouterr().out + (out / "leaderboard.md").read_text()
    assert f"the store was written with the plugin {plugin.resolve()}" in said
    assert f"--plugin {plugin.resolve()}" in said


def test_what_a_store_records_stays_and_what_was_loaded_joins_it(tmp_path, clean_registries):
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    for path in (first, second):
        path.write_text("")
    plugins.load_plugin(str(second))
    recorded = [str(first.resolve())]
    assert plugins.with_loaded(recorded) == [str(first.resolve()), str(second.resolve())]
    assert plugins.with_loaded([str(second.resolve())]) == [str(second.resolve())]
    assert recorded == [str(first.resolve())]  # the record given is not changed


CONFIG = """
[run]
name = "p"
dataset = "digits"
arch = "mlp"
train_sigmas = [0.25]
n_test = 3
n0 = 20
n = 200

[[noises]]
family = "gaussian"

[certify]
certifiers = ["cohen"]
norms = ["l2"]
"""


def test_a_run_resumed_without_the_plugin_keeps_it_recorded(tmp_path, clean_registries, capsys):
    config, store = tmp_path / "p.toml", tmp_path / "s.sqlite"
    config.write_text(CONFIG)
    plugin = tmp_path / "half_cohen_plugin.py"
    plugin.write_text(PLUGIN)
    assert main(["run", str(config), "--store", str(store), "--quiet"]) == 0
    argv = ["certify", str(store), "--certifier", "half-cohen", "--plugin", str(plugin)]
    assert main([*argv, "--quiet"]) == 0, capsys.readouterr().err
    CERTIFIERS.unregister("half-cohen")
    plugins._LOADED.clear()
    assert main(["run", str(config), "--store", str(store), "--quiet"]) == 0
    with Store(store) as st:
        assert st.get_manifest("plugins") == [str(plugin.resolve())]
        assert ("half-cohen",) in st.query("SELECT DISTINCT certifier FROM certificates")
