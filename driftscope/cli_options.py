"""Options every command group shares."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Annotated, Any

import typer


def command_group(**options: Any) -> typer.Typer:
    """A Typer app in click's plain form: a usage error is one line (``Error: …``), never
    boxed and wrapped by rich, and help is plain text."""
    return typer.Typer(rich_markup_mode=None, **options)


ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="driftscope.yaml (default: the file DRIFTSCOPE_CONFIG "
                 "names, else ./driftscope.yaml when it exists, else the defaults)."),
]


def check_writable(path: Path, option: str, *, parents: bool = False) -> None:
    """Check that the file ``option`` names can be written, before the work that fills it
    (a result is never computed for nothing): a directory, a missing or read-only folder
    is a one-line :class:`~driftscope.errors.ConfigError`. ``parents``: missing folders
    are created (as the command would). A file that did not exist is left absent."""
    from driftscope.errors import ConfigError

    existed = path.exists()
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if parents:
            path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a"):
            pass
    except OSError as exc:
        raise ConfigError(f"{option} {path}: cannot write it: {exc.strerror or exc}") from None
    if not existed:
        path.unlink(missing_ok=True)
