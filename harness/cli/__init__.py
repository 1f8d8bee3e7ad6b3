"""The ``smoothbench`` command line: one module a command (``harness/cli/<command>.py``),
each with ``add_parser(subparsers)`` and ``main(args) -> exit code``; ``COMMANDS`` lists
them in help order.

Every failure is one line on stderr, never a traceback (unless ``--debug``): exit code 2
for bad input (a config, a store, an argument), 1 for the environment (permissions, a
full disk, a busy device) or an internal error, 3 when ``audit`` finds a certificate
that fails its audit, 130 when interrupted (Ctrl-C or SIGTERM, which end a run cleanly:
what is stored stays, and running again resumes). Warnings are one line each too. A
mistyped name (a command, a choice, an option, a config key, a noise family or a
certifier) is answered with the closest known ones ("did you mean ...?"). Every command
takes ``--plugin FILE.py|MODULE`` (repeatable): imported before the command reads a
registry, so that a plugin written as one file serves every command.
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import sys
import traceback
import warnings
from importlib import import_module

from harness.cli.parser import SuggestingParser
from smoothbench.plugins import load_plugins, missing

COMMANDS = ("run", "certify", "report", "audit", "compare", "plan", "import", "export", "list")


def build_parser() -> argparse.ArgumentParser:
    parser = SuggestingParser(
        prog="smoothbench",
        description="Certified-robustness benchmarking by randomized smoothing, "
        "on shared seeded Monte Carlo draws.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error (for bug reports)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        module = import_module(f"harness.cli.{name.replace('-', '_')}_command")
        p = module.add_parser(sub)
        p.add_argument(
            "--plugin",
            action="append",
            default=[],
            metavar="FILE.py|MODULE",
            help="import a plugin first (a noise, certifier or check registered by its "
            "decorator); repeatable",
        )
        p.set_defaults(func=module.main, command_parser=p)
    return parser


def _check_single_values(args: argparse.Namespace) -> None:
    """Refuse a positional argument that argparse left as a list: given as ``--`` after a
    ``--`` (``export -- cohen-tsv --``), it takes the value ``[]`` instead of an error."""
    parser: argparse.ArgumentParser = args.command_parser
    for action in parser._actions:  # argparse keeps no public list of them
        if not action.option_strings and action.nargs is None:
            if isinstance(getattr(args, action.dest, None), list):
                parser.error(f"argument {action.dest}: expected one value")


def _sigterm(signum, frame) -> None:
    raise KeyboardInterrupt  # the same clean stop as Ctrl-C


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text


def _warning_format(command: str):
    """``warnings.formatwarning`` giving one line, without the source line."""

    def format_line(message, category, filename, lineno, line=None) -> str:
        return f"smoothbench {command}: warning: {_one_line(message)}\n"

    return format_line


def main(argv: list[str] | None = None) -> int:
    try:
        previous = signal.signal(signal.SIGTERM, _sigterm)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        return _run_command(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run_command(argv: list[str] | None) -> int:
    try:
        # the commands' modules import torch: a second or two in which Ctrl-C may come
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        if "--debug" in (sys.argv[1:] if argv is None else argv):
            return _traceback(130)
        print("smoothbench: interrupted", file=sys.stderr)
        return 130
    _check_single_values(args)
    formatter = warnings.formatwarning
    if not args.debug:
        warnings.formatwarning = _warning_format(args.command)
    try:
        load_plugins(args.plugin)
        code = args.func(args)
        if args.command != "report":  # the report says so in its own warnings
            for plugin in missing():
                print(
                    f"smoothbench {args.command}: warning: the store was written with the plugin "
                    f"{plugin}, which this command did not: rows of its noises or "
                    f"certifiers are read without it (give it with --plugin {plugin})",
                    file=sys.stderr,
                )
        return code
    except KeyboardInterrupt:
        if args.debug:
            return _traceback(130)
        print(f"smoothbench {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a program that stopped reading
        sys.stderr.close()
        return 0
    except (ValueError, TypeError, FileNotFoundError, KeyError) as err:
        if args.debug:
            return _traceback(2)
        print(f"smoothbench {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except (OSError, sqlite3.Error) as err:
        if args.debug:
            return _traceback(1)
        store = getattr(args, "store", None)  # SQLite's messages do not name the file
        out = getattr(args, "out", None)
        where = f" (store {store})" if isinstance(err, sqlite3.Error) and store else ""
        if isinstance(err, OSError) and err.filename is None and (out or store):
            # a write that fails (a full disk) names no file: say where it was writing
            where = f" (writing under {out})" if out else f" (store {store})"
        print(
            f"smoothbench {args.command}: error ({type(err).__name__}): {_one_line(err)}{where}",
            file=sys.stderr,
        )
        return 1
    except Exception as err:  # an internal error: one line, the traceback on --debug
        if args.debug:
            return _traceback(1)
        print(
            f"smoothbench {args.command}: internal error ({type(err).__name__}): "
            f"{_one_line(err)}; rerun with --debug for the traceback",
            file=sys.stderr,
        )
        return 1
    finally:
        warnings.formatwarning = formatter


def _traceback(code: int) -> int:
    """``--debug``: the traceback of the error being handled instead of its one line,
    and the exit code the line would have had."""
    traceback.print_exc()
    return code


if __name__ == "__main__":
    sys.exit(main())
