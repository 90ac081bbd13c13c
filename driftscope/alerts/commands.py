"""The `driftscope` commands of this component, added by :func:`register`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this component's commands to the root CLI (none yet)."""
