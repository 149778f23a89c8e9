"""The root CLI: help lists the subcommands; user errors become one line and exit status 2; file-system and
database errors one line and status 1; a library's ValueError (a bug) keeps its traceback; Ctrl-C says how to
resume and exits with 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mixture_builder.cli", *args], capture_output=True, text=True, timeout=300, check=False
    )


# The real root app with one extra command, run through the real entry point (`main`) in a subprocess.
SCRIPT = """
import os, sqlite3, sys, time
from mixture_builder import cli

@cli.app.command("probe")
def probe(what: str) -> None:
    if what == "sleep":
        print("ready", flush=True)
        time.sleep(60)
    elif what == "oserror":
        open("/nonexistent-dir/input.jsonl")
    elif what == "sqlite":
        sqlite3.connect(":memory:").execute("select * from missing_table")
    elif what == "library":  # a bug: numpy's ValueError inside a datatrove pipeline step
        import numpy as np
        from datatrove.data import Document
        from datatrove.executor import LocalPipelineExecutor

        def reshape(data, rank, world_size):
            for doc in data:
                np.arange(3).reshape(2, 2)
                yield doc

        pipeline = [[Document(text="a", id="0")], reshape]
        LocalPipelineExecutor(pipeline, logging_dir=os.environ["PROBE_LOGS"], skip_completed=False).run()
    elif what == "config":
        from mixture_builder.config_io import load_config
        from mixture_builder.distill.config import DistillConfig

        load_config(DistillConfig, {"merge": {"ratio": 3}})

cli.main(sys.argv[1:])
"""


def run_probe(what: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SCRIPT, "probe", what], capture_output=True, text=True,
                          timeout=300, check=False, env={**os.environ, **env})


def test_help_runs() -> None:
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout and "push" in result.stdout


def test_usage_errors_keep_clicks_message_and_status() -> None:
    result = run_cli("push", "--bogus", "x", "y")
    assert result.returncode == 2 and result.stdout == ""
    assert "No such option: --bogus" in result.stderr and "lm-mixup push --help" in result.stderr
    missing = run_cli("push")
    assert missing.returncode == 2 and "Missing argument" in missing.stderr
    bare = run_cli()  # no_args_is_help: the help, status 2 as before
    assert bare.returncode == 2 and "Usage" in bare.stdout + bare.stderr


def test_value_error_is_one_line_with_status_2() -> None:
    result = run_cli("pull", "no-namespace", "somewhere")
    assert result.returncode == 2
    line = "error: field 'repo_id': invalid repo id 'no-namespace' — use 'namespace/name'"
    assert result.stderr.strip().splitlines() == [line]


@pytest.mark.parametrize(
    ("what", "line"),
    [("oserror", "error: /nonexistent-dir/input.jsonl: No such file or directory"),
     ("sqlite", "error: database: OperationalError: no such table: missing_table")],
)
def test_os_and_sqlite_errors_are_one_line_with_status_1(what: str, line: str) -> None:
    result = run_probe(what)
    assert result.returncode == 1 and result.stderr.strip().splitlines() == [line], result.stderr


def test_a_library_value_error_keeps_its_traceback(tmp_path) -> None:
    result = run_probe("library", PROBE_LOGS=str(tmp_path / "logs"))
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "ValueError: cannot reshape array of size 3 into shape (2,2)" in result.stderr
    assert "error: cannot reshape" not in result.stderr


def test_a_bad_config_value_is_still_one_line() -> None:
    result = run_probe("config")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: field 'merge.ratio': must be within (0, 1], got 3 — e.g. 0.5"
    ]


def test_ctrl_c_says_how_to_resume() -> None:
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(SCRIPT), "probe", "sleep"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    assert stderr.strip().splitlines() == ["interrupted; rerun the same command to resume"]
