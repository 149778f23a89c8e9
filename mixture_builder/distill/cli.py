"""CLI subcommands of this package (registered on the root ``lm-mixup`` app)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this package's subcommands to ``app``."""
