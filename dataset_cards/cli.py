"""CLI subcommands of this package (registered on the root ``lm-mixup`` app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add this package's subcommands to ``app``."""

    @app.command("card")
    def card(
        folder: Annotated[Path, typer.Argument(help="A built dataset folder or a checkpoint folder.")],
        kind: Annotated[str, typer.Option("--kind", help="auto | dataset | model")] = "auto",
    ) -> None:
        """Regenerate README.md (card + figures/) of a dataset folder (Parquet + stats.json) or a checkpoint."""
        from dataset_cards.regenerate import regenerate_card

        path = regenerate_card(folder, kind)
        typer.echo(str(path))
