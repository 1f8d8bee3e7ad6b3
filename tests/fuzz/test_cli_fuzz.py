"""Fuzzing the command line: random argument lists for every command, run through
``harness.cli.main`` against a small real store (a fresh copy per example), a config, a
bad config, a directory, a plain file and a missing path. ``run`` samples nothing (its
runner is replaced by a stub: the config is still loaded and checked), so no example
runs long. Each call exits 0, or fails with exit code 2 (bad input) or 1 (the
environment) and one line on stderr; never a traceback, never an "internal error"."""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness.cli import build_parser, main
from tests.plugin_state import plugins_undone

CONFIG = (
    '[run]\nname = "fuzz"\ndataset = "digits"\narch = "mlp"\ntrain_sigmas = [0.5]\n'
    'n_test = 3\nn0 = 10\nn = 100\n[[noises]]\nfamily = "gaussian"\n'
    '[certify]\ncertifiers = ["cohen"]\nalpha = [0.01]\n'
)
NUMBERS = ["0.001", "0.01", "0.05", "0.1", "0.25", "0.5", "0.9", "0.99", "1", "3", "100", "-0.1"]
PLACES = ("STORE", "CONFIG", "BADCONFIG", "DIR", "FILE", "MISSING", "UNDERFILE", "OUT")
VALUES = [
    "", " ", "-", "--", "nan", "inf", "-inf", "-1", "0", "1", "0.5", "1e308", "1e-320",
    "2", "10000000000000000000000", "l1", "l2", "linf", "l3", "cohen", "ibp", "fdiv-kl",
    "nope", "gaussian", "all", "cohen-tsv", "cuda", "gpu", "x y", "\u00e9", *PLACES,
    "digits-mlp-sigma0.5", "gaussian(dim=64,sigma=0.5)",
]  # fmt: skip


def _parsers() -> dict[str, argparse.ArgumentParser]:
    """Every (sub-)command's parser, read off ``build_parser``: ``run``, ..., ``plan
    draws``."""
    out: dict[str, argparse.ArgumentParser] = {}
    stack = [((), build_parser())]
    while stack:
        path, parser = stack.pop()
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if path and not subs:
            out[" ".join(path)] = parser
        for sub in subs:
            stack += [((*path, name), p) for name, p in sub.choices.items()]
    return out


#: Commands whose every valid call runs long work of its own (the statistical audits),
#: left to their own tests.
LONG_COMMANDS = {"audit"}
PARSERS = {k: v for k, v in _parsers().items() if k.split()[0] not in LONG_COMMANDS}


def _nargs(action: argparse.Action) -> int | str | None:
    return action.nargs


@st.composite
def _values(draw, action: argparse.Action) -> list[str]:
    """Values for one argument: from its choices mostly, else from ``VALUES``."""
    pool = st.sampled_from(VALUES)
    if action.type is float or action.type is int:
        pool = st.one_of(st.sampled_from(NUMBERS), pool)
    if action.type is Path:
        likely = {"store": "STORE", "config": "CONFIG", "out": "OUT"}.get(action.dest, "FILE")
        pool = st.one_of(st.just(likely), st.just(likely), st.sampled_from(PLACES), pool)
    if action.choices:
        pool = st.one_of(st.sampled_from(sorted(action.choices)), pool)
    nargs = _nargs(action)
    if nargs == 0:
        return []
    if isinstance(nargs, int):
        count = draw(st.sampled_from([nargs] * 4 + [max(nargs - 1, 0), nargs + 1]))
    elif nargs in ("+", "*"):
        count = draw(st.integers(0 if nargs == "*" else 1, 3))
    else:  # None or "?"
        count = 1
    return [draw(pool) for _ in range(count)]


@st.composite
def argvs(draw) -> list[str]:
    """A plausible command line: the command, its positionals (right or wrong), some of
    its options with values, now and then a stray token."""
    command = draw(st.sampled_from(sorted(PARSERS)))
    parser = PARSERS[command]
    argv = command.split()
    actions = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
    for action in actions:
        if not action.option_strings:
            argv += draw(_values(action))
    for action in actions:
        if action.option_strings and (action.required or draw(st.integers(0, 2)) == 0):
            if draw(st.integers(0, 9)) > 0:  # a required option is sometimes left out
                argv += [action.option_strings[0], *draw(_values(action))]
    if draw(st.integers(0, 4)) == 0:
        argv.insert(draw(st.integers(1, len(argv))), draw(st.sampled_from(VALUES)))
    return argv


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small finished run's store and the files the arguments point to."""
    from harness import config, runner

    root = tmp_path_factory.mktemp("cli-fuzz")
    (root / "c.toml").write_text(CONFIG)
    runner.run(config.load(root / "c.toml"), root / "s.sqlite", progress=False)
    (root / "bad.toml").write_text("[run\n")
    (root / "dir").mkdir()
    (root / "file").write_text("junk\n")
    return root


def _place(token: str, root: Path, example: Path) -> str:
    return {
        "STORE": str(example / "s.sqlite"),
        "CONFIG": str(root / "c.toml"),
        "BADCONFIG": str(root / "bad.toml"),
        "DIR": str(root / "dir"),
        "FILE": str(root / "file"),
        "MISSING": str(example / "missing" / "none.sqlite"),
        "UNDERFILE": str(root / "file" / "below"),
        "OUT": str(example / "out"),
    }.get(token, token)


def _stub_run(cfg, store, **kwargs):
    """The runner without sampling: what ``run`` would do first (resolve the device)."""
    from harness.draws import resolve_device

    device = kwargs.get("device")
    resolve_device(device if device is not None else cfg.device)
    return Path(store)


@settings(max_examples=300)
@given(argv=argvs())
@example(argv=["list", "--plugin", "cuda"])  # an installed package: loads, registers nothing
def test_random_arguments_give_a_result_or_one_clear_line(world, argv, monkeypatch_module):
    with tempfile.TemporaryDirectory() as tmp:
        example = Path(tmp)
        shutil.copy(world / "s.sqlite", example / "s.sqlite")
        args = [_place(t, world, example) for t in argv]
        out, err = io.StringIO(), io.StringIO()
        # in the example's folder: relative paths (a store named "0") land there
        with (
            contextlib.chdir(example),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            plugins_undone(),  # a --plugin an example loads stays out of later tests
        ):
            try:
                code = main(args)
            except SystemExit as exit_:  # argparse: usage errors (2) and --help (0)
                code = exit_.code
                assert code in (0, 2), (args, err.getvalue())
                if code == 2:
                    assert err.getvalue().splitlines()[-1].startswith("smoothbench"), args
                return
    text = err.getvalue()
    assert "Traceback" not in text and "internal error" not in text, (args, text)
    assert code in (0, 1, 2), (args, code, text)
    if code != 0:  # the last line (progress bars may come before it) is the error
        last = text.splitlines()[-1]
        assert last.startswith(f"smoothbench {argv[0]}: error") and text.endswith("\n"), text


@pytest.fixture(scope="module")
def monkeypatch_module():
    from harness import runner

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner, "run", _stub_run)
        yield mp
