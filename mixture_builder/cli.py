"""The ``lm-mixup`` command line: one Typer app; each package registers its own subcommands.

Every subcommand is a thin wrapper over a Python function. Errors are handled at one boundary,
:func:`mixture_builder.boundary.run_cli`: user errors are one line (exit status 2), bugs keep their traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

import typer

from mixture_builder.boundary import run_cli

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
    from lm_mixup_train.evaluate import cli as evaluate_cli
    from mixture_builder.clustering import cli as clustering_cli
    from mixture_builder.distill import cli as distill_cli
    from mixture_builder.generate import cli as generate_cli
    from mixture_builder.readers import cli as readers_cli
    from mixture_builder.select import cli as select_cli
    from mixture_builder.teacher import cli as teacher_cli

    for module in (readers_cli, teacher_cli, clustering_cli, generate_cli, distill_cli, select_cli, train_cli,
                   evaluate_cli, hub_cli, cards_cli):
        module.register(app)


_register_subcommands()


def main(args: Sequence[str] | None = None) -> NoReturn:
    """Console-script entry point: run the app on ``args`` (default ``sys.argv[1:]``) and exit with its status."""
    run_cli(app, args)


if __name__ == "__main__":
    main()
