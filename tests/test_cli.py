"""The root CLI: help lists the subcommands; user errors become one line and exit status 2."""

from __future__ import annotations

import subprocess
import sys


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mixture_builder.cli", *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_help_runs() -> None:
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
