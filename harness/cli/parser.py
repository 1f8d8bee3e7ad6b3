"""The command line's argument parser: argparse, with the closest known names offered
for a mistyped choice (``--executor rey``, a command ``reprt``) or option (``--exector``),
as Python 3.14's ``suggest_on_error`` does; the names come from ``smoothbench.names``."""

from __future__ import annotations

import argparse
import decimal
import math
from collections.abc import Sequence
from typing import Any

from smoothbench.names import choices, did_you_mean


class SuggestingParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors for an unknown choice or option name the
    closest known ones. Sub-command parsers made through ``add_subparsers`` are of the
    same class."""

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # argparse's own test of a value against ``choices``, which has no public hook
        if action.choices is not None and value not in action.choices:
            known = [str(c) for c in action.choices]
            raise argparse.ArgumentError(
                action, f"invalid choice: {value!r}; {choices(value, known, 'choose from')}"
            )
        super()._check_value(action, value)

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        """``parse_known_args``; arguments left over are an error of the command they were
        given to, which offers its closest options for each unknown ``--name``."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            parser = getattr(parsed, "command_parser", None) or self
            parser = _innermost(parser, parsed)
            known = [s for a in parser._actions for s in a.option_strings if s.startswith("--")]
            hints = [
                did_you_mean(e.split("=", 1)[0], known).strip()
                for e in extras
                if e.startswith("--")
            ]
            hint = "; ".join(h for h in hints if h)
            parser.error(
                f"unrecognized arguments: {' '.join(extras)}" + (f"; {hint}" if hint else "")
            )
        return parsed


def _innermost(
    parser: argparse.ArgumentParser, parsed: argparse.Namespace
) -> argparse.ArgumentParser:
    """The sub-command parser the arguments reached (``plan draws`` within ``plan``)."""
    for action in parser._actions:  # argparse keeps no public list of them
        if isinstance(action, argparse._SubParsersAction):
            chosen = action.choices.get(getattr(parsed, action.dest, None) or "")
            if chosen is not None:
                return _innermost(chosen, parsed)
    return parser


def real_number(text: str) -> float:
    """An argument read as a float (argparse's ``type``), refused where the number written
    is not the float read: ``1e-400`` reads as 0 and ``1e400`` as infinity, and an alpha
    of 0 was then refused as "got 0.0", a value nobody gave."""
    value = float(text)
    try:
        written = decimal.Decimal(text.strip())
        nonzero, finite = written.is_finite() and written != 0, written.is_finite()
    except decimal.InvalidOperation:  # an exponent beyond Decimal's (about 1e18)
        nonzero = any(c in "123456789" for c in text.strip().lower().split("e")[0])
        finite = "inf" not in text.lower()
    if (value == 0.0 and nonzero) or (math.isinf(value) and finite):
        raise argparse.ArgumentTypeError(
            f"{text} lies beyond what a double holds (it reads as {value!r})"
        )
    return value
