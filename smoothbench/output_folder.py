"""An output folder named on the command line, checked before the work whose results go
there: a folder that exists, or one that ``mkdir`` can make (its nearest existing parent is
a folder). Found after minutes of work, the same mistake would lose them."""

from __future__ import annotations

from pathlib import Path


def check_output_folder(out: str | Path, option: str = "--out") -> Path:
    """``out`` as a path; ``ValueError`` (bad input) naming ``option`` when ``out`` is an
    existing file or lies below one."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{option} {out}: an existing file; {option} must be a folder")
    above = next((p for p in out.absolute().parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise ValueError(f"{option} {out}: {above} is a file, so no folder can be made below it")
    return out
