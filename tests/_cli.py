"""Running the real ``lm-mixup`` app in-process from tests."""

from __future__ import annotations

from typer.testing import CliRunner

from mixture_builder.cli import app


def run_cli(*args: str) -> str:
    """``lm-mixup ARGS`` through Typer's test runner; an exception from the command is re-raised as is, a non-zero
    exit fails the test with the command's output. Returns the output."""
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output
