"""The command line's one error boundary: user errors become one line, bugs keep their traceback.

``run_cli(app)`` runs a Typer app not in standalone mode so that errors reach the handlers here:
:class:`~mixture_builder.errors.UserError` → ``error: …`` and exit status 2; file-system (``OSError``) and
SQLite errors → one line and status 1; Ctrl-C → how to resume and status 130; usage errors → Click's message
and status 2. Every other exception propagates with its traceback: it is a bug, not a user mistake.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Sequence
from typing import NoReturn

import typer

from mixture_builder.errors import UserError

INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT), as a shell reports it."""


def fail(message: str, status: int) -> NoReturn:
    """Print ``error: message`` on one line to stderr and exit with ``status``."""
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


def run_cli(app: typer.Typer, args: Sequence[str] | None = None, *, prog_name: str = "lm-mixup") -> NoReturn:
    """Run ``app`` on ``args`` (default ``sys.argv[1:]``) and exit with its status (see the module doc)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        status = app(args=args, prog_name=prog_name, standalone_mode=False)
    except (KeyboardInterrupt, typer.Abort):
        status = INTERRUPTED
    except typer.TyperException as error:  # usage errors (Click's exceptions): their message and status (2)
        _show_usage_error(error)
        sys.exit(getattr(error, "exit_code", 2))
    except UserError as error:
        fail(str(error), 2)
    except sqlite3.Error as error:
        fail(f"database: {type(error).__name__}: {error}", 1)
    except OSError as error:
        if error.filename is not None and error.strerror:
            fail(f"{error.filename}: {error.strerror}", 1)
        fail(f"{type(error).__name__}: {error}", 1)
    # Typer turns Ctrl-C inside a command into exit status 130; commands otherwise return None or an exit status.
    if status == INTERRUPTED:
        typer.echo("interrupted; rerun the same command to resume", err=True)
    sys.exit(status if type(status) is int else 0)
