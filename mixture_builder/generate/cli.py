"""CLI subcommands of this package (registered on the root ``lm-mixup`` app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mixture_builder.console import VerboseOption


def build(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Build config YAML (configs/build_*.yaml); default: demo.")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output folder (overrides the config).")] = None,
    push: Annotated[str | None, typer.Option("--push", help="Publish the result to this Hub dataset repo.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan (calls, tokens, cost) and stop.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the teacher's cache.")] = False,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Start over in an output folder built with other settings or inputs.")
    ] = False,
    verbose: VerboseOption = False,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Read at most this many documents per source and task.")
    ] = None,
) -> None:
    """Regenerate MIXTURE from raw passages (no arguments: the embedded demo — CPU, offline)."""
    from mixture_builder.generate.run import load_config, print_plan, print_result, run_build

    cfg = load_config(config, output=output, push=push, no_cache=no_cache, limit=limit)
    if dry_run:
        print_plan(cfg)
        return
    print_result(run_build(cfg, fresh=fresh, verbose=verbose))


def register(app: typer.Typer) -> None:
    """Add ``lm-mixup build`` to ``app``."""
    app.command("build")(build)
