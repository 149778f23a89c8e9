"""The ``lm-mixup`` command line: one Typer app; each package registers its own subcommands.

Every subcommand is a thin wrapper over a Python function. User errors (``ValueError``) are caught here and
printed as one line; the exit status is then 2.
"""

from __future__ import annotations

import logging
import sys

import typer

app = typer.Typer(
    name="lm-mixup",
    help="Instruction distillation: regenerate MIXTURE, train LM-Mixup, distill instruction pools, move data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Instruction distillation: regenerate MIXTURE, train LM-Mixup, distill instruction pools, move data."""


@app.command()
def version() -> None:
    """Print the installed lm-mixup version."""
    from mixture_builder import __version__

    typer.echo(__version__)


def _register_subcommands() -> None:
    # Each module's `register(app)` adds its commands; heavy imports stay inside the command functions.
    from dataset_cards import cli as cards_cli
    from hub import cli as hub_cli
    from lm_mixup_train import cli as train_cli
    from mixture_builder.build import cli as build_cli
    from mixture_builder.clustering import cli as clustering_cli
    from mixture_builder.distill import cli as distill_cli
    from mixture_builder.readers import cli as readers_cli
    from mixture_builder.teacher import cli as teacher_cli

    for module in (readers_cli, teacher_cli, clustering_cli, build_cli, distill_cli, train_cli, hub_cli, cards_cli):
        module.register(app)


_register_subcommands()


def main() -> None:
    """Console-script entry point."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except ValueError as error:  # user errors: one clear line, no traceback
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted; rerun the same command to resume", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
