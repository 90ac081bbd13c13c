"""Options every command group shares."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="driftscope.yaml (default: the file DRIFTSCOPE_CONFIG "
                 "names, else ./driftscope.yaml when it exists, else the defaults)."),
]
