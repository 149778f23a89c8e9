"""CLI subcommand of this package: ``lm-mixup select`` (registered on the root ``lm-mixup`` app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mixture_builder.console import VerboseOption


def register(app: typer.Typer) -> None:
    """Add this package's subcommands to ``app``."""
    app.command(name="select")(select)


def select(
    config: Annotated[Path | None, typer.Option(
        "--config", "-c", help="A distill YAML config, optionally with a `selection:` section "
                               "(see configs/select_*.yaml). Default: the packaged demo pool.")] = None,
    method: Annotated[list[str] | None, typer.Option(
        "--method", "-m", help="Baseline(s) to write: random, top-k, ds2, full (repeat or comma-separate; "
                               "default: the config's, else all).")] = None,
    size: Annotated[int | None, typer.Option("--size", "-n", help="Rows per baseline (overrides the config).")] = None,
    fraction: Annotated[float | None, typer.Option(
        "--fraction", help="Rows per baseline as a share of the deduplicated, scored pool.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of random and of top-k ties.")] = None,
    output: Annotated[str | None, typer.Option(
        "--output", "-o", help="Output folder: OUTPUT/<method>/ per baseline.")] = None,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Ignore the LLM response cache and start over.")] = False,
    verbose: VerboseOption = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the resolved config; run nothing.")] = False,
) -> None:
    """Write the paper's data-selection baselines as datasets shaped like a `distill` output."""
    import json

    from mixture_builder.config_io import expect_mapping, read_yaml_mapping
    from mixture_builder.errors import ConfigError
    from mixture_builder.select import SelectConfig, run_select

    if size is not None and fraction is not None:
        raise ConfigError("--size and --fraction are both given", fix="give one of them")
    data: dict[str, Any] = read_yaml_mapping(config) if config else {}
    source = str(config) if config else None
    selection = dict(expect_mapping(data.get("selection") or {}, source=source, where="selection"))
    if method:
        selection["methods"] = [m.strip() for value in method for m in value.split(",") if m.strip()]
    if size is not None:
        selection.update(size=size, fraction=None)
    if fraction is not None:
        selection.update(fraction=fraction, size=None)
    if seed is not None:
        selection["seed"] = seed
    if output:
        selection["output"] = output
    cfg = SelectConfig.from_dict({**data, **({"selection": selection} if selection else {})}, source=source)
    if config:
        cfg.resolve_paths(config.parent)
    if dry_run:
        typer.echo(json.dumps(cfg.to_dict(), indent=2, default=str))
        return
    summary = run_select(cfg, use_cache=not no_cache, quiet=not verbose)
    usage = summary["teacher_usage"]["score"]
    typer.echo(f"pool: {summary['pool']} deduplicated, scored records of {summary['input_records']} read "
               f"(rating requests: {usage.get('requests', 0)}, cache hits: {usage.get('cache_hits', 0)})")
    for name, result in summary["methods"].items():
        typer.echo(f"{name}: {result['rows']} rows → {result['path']}")
