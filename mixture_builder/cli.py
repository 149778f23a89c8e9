"""The ``lm-mixup`` command line: one Typer app; each package registers its own subcommands.

Every subcommand is a thin wrapper over a Python function. User errors (``ValueError``) are caught here and
printed as one line; the exit status is then 2. File-system (``OSError``) and SQLite errors are one line too
(exit status 1); Ctrl-C prints how to resume and exits with 130.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

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
    from mixture_builder.clustering import cli as clustering_cli
    from mixture_builder.distill import cli as distill_cli
    from mixture_builder.generate import cli as generate_cli
    from mixture_builder.readers import cli as readers_cli
    from mixture_builder.teacher import cli as teacher_cli

    for module in (readers_cli, teacher_cli, clustering_cli, generate_cli, distill_cli, train_cli, hub_cli, cards_cli):
        module.register(app)


_register_subcommands()


INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT), as a shell reports it."""


def _fail(message: str, status: int) -> NoReturn:
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    sys.exit(status)


def _show_usage_error(error: typer.TyperException) -> None:
    """Print a usage error as the Typer app does in standalone mode (rich panel when rich is in use)."""
    from typer.core import HAS_RICH

    if HAS_RICH:
        from typer import rich_utils

        rich_utils.rich_format_error(error)
    else:
        error.show()


def main(args: Sequence[str] | None = None) -> None:
    """Console-script entry point: run the app on ``args`` (default ``sys.argv[1:]``) and exit with its status."""
    import sqlite3

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        # Not standalone, so errors and Ctrl-C reach the handlers below instead of Click's generic ones.
        status = app(args=args, prog_name="lm-mixup", standalone_mode=False)
    except (KeyboardInterrupt, typer.Abort):
        status = INTERRUPTED
    except typer.TyperException as error:  # usage errors (Click's exceptions): their message and status (2)
        _show_usage_error(error)
        sys.exit(getattr(error, "exit_code", 2))
    except ValueError as error:  # user errors: one clear line, no traceback
        _fail(str(error), 2)
    except sqlite3.Error as error:
        _fail(f"database: {type(error).__name__}: {error}", 1)
    except OSError as error:
        if error.filename is not None and error.strerror:
            _fail(f"{error.filename}: {error.strerror}", 1)
        _fail(f"{type(error).__name__}: {error}", 1)
    # Typer turns Ctrl-C inside a command into exit status 130; commands otherwise return None or an exit status.
    if status == INTERRUPTED:
        typer.echo("interrupted; rerun the same command to resume", err=True)
    sys.exit(status if type(status) is int else 0)


if __name__ == "__main__":
    main()
