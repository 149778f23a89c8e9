"""CLI subcommands of this package (registered on the root ``lm-mixup`` app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mixture_builder.console import VerboseOption


def register(app: typer.Typer) -> None:
    """Add this package's subcommands to ``app``."""
    app.command(name="distill")(distill)


def distill(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="YAML config (see configs/distill_*.yaml). Default: the embedded demo."
        ),
    ] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Output folder (overrides the config).")
    ] = None,
    report: Annotated[
        bool, typer.Option("--report", help="Also write report.html (clusters beside distillations).")
    ] = False,
    push: Annotated[
        str | None, typer.Option("--push", help="Push the result to this Hub dataset repo.")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Ignore the LLM response cache and start over.")
    ] = False,
    verbose: VerboseOption = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read the pools and print per stage the teacher calls, tokens, cost "
                                             "and time it would take; send nothing.")
    ] = False,
) -> None:
    """Distill a low-quality instruction pool into a small high-quality dataset (LM-Mixup)."""
    from mixture_builder.distill.config import STAGES, DistillConfig, demo_config
    from mixture_builder.distill.pipeline import run_distill
    from mixture_builder.distill.plan import make_plan, plan_lines

    cfg = DistillConfig.from_yaml(config) if config else demo_config()
    if output:
        cfg.output = output
    if report:
        cfg.report = True
    if push:
        cfg.push_to = push
    if dry_run:
        if not verbose:  # the readers' per-file log lines; the plan is the output
            from loguru import logger

            logger.disable("datatrove")
        typer.echo("\n".join(plan_lines(cfg, make_plan(cfg))))
        typer.echo("  stages: " + " → ".join(STAGES))
        return
    stats = run_distill(cfg, use_cache=not no_cache, quiet=not verbose)
    out = stats.get("output", {})
    typer.echo(
        f"wrote {out.get('rows', 0)} rows ({out.get('distilled', 0)} distilled, {out.get('original', 0)} "
        f"original) from {stats.get('input_records', 0)} input records to {cfg.output}"
    )
    if cfg.report:
        typer.echo(f"report: {Path(cfg.output) / 'report.html'}")
    if stats.get("pushed_to"):
        typer.echo(f"pushed: {stats['pushed_to']}")
