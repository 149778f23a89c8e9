"""``lm-mixup evaluate downstream``: a thin typer wrapper over :func:`~lm_mixup_train.downstream.run.run_downstream`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(evaluate_app: typer.Typer) -> None:
    """Add the ``downstream`` command to the ``lm-mixup evaluate`` group."""
    evaluate_app.command(name="downstream")(downstream)


def downstream(
    config: Annotated[Path, typer.Option("--config", "-c", help="YAML config (see configs/ab_cpu.yaml, ab_gpu.yaml).")],
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Output folder (overrides the config's `output`).")
    ] = None,
    no_cards: Annotated[
        bool, typer.Option("--no-cards", help="Do not write the Evaluation section into the candidates' cards.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and print the resolved config; run nothing.")] = False,
) -> None:
    """Fine-tune one base model per candidate dataset (TRL + LoRA) and compare them with lm-eval benchmarks."""
    import json

    from lm_mixup_train.downstream.config import DownstreamConfig
    from lm_mixup_train.downstream.results import markdown_tables
    from lm_mixup_train.downstream.run import RESULTS_FILE, run_downstream

    cfg = DownstreamConfig.from_yaml(config)
    if output:
        cfg.output = output
    if dry_run:
        typer.echo(json.dumps(cfg.to_dict(), indent=2, default=str))
        return
    summary = run_downstream(cfg, write_cards=not no_cards)
    typer.echo(markdown_tables(summary, summary["tasks"]))
    typer.echo(f"wrote {cfg.output_dir / RESULTS_FILE}, results.md and results.png")
