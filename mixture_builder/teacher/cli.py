"""CLI subcommands of the teacher layer: ``lm-mixup teacher ping`` and ``lm-mixup teacher rate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

teacher_app = typer.Typer(help="The teacher LLM: check an endpoint, rate instruction data.", no_args_is_help=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML file with a 'teacher:' section (default: the embedded model)."),
]


def register(app: typer.Typer) -> None:
    """Add this package's subcommands to ``app``."""
    app.add_typer(teacher_app, name="teacher")


def _config(path: Path | None, no_cache: bool = False):
    from mixture_builder.teacher.config import TeacherConfig

    config = TeacherConfig.from_yaml(path) if path else TeacherConfig()
    if no_cache:
        config.use_cache = False
    return config


@teacher_app.command()
def ping(config: ConfigOption = None,
         prompt: Annotated[str, typer.Option(help="What to ask.")] = "Say hello in five words.") -> None:
    """Send one request (uncached) and print the reply, its latency and token counts."""
    from mixture_builder.teacher.client import ping as ping_teacher

    typer.echo(ping_teacher(_config(config, no_cache=True), prompt))


@teacher_app.command()
def rate(
    input: Annotated[str, typer.Argument(help="Instruction records: a file, folder or Hub id (any reader format).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="JSONL with quality scores.")] = Path("rated.jsonl"),
    config: ConfigOption = None,
    threshold: Annotated[int | None, typer.Option(help="Keep only records with quality >= this (0-5).")] = None,
    limit: Annotated[int | None, typer.Option(help="Rate at most this many records.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Estimate calls, tokens and cost; send nothing.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the response cache.")] = False,
    plain_text: Annotated[bool, typer.Option("--plain-text", help="Rate each record's text as the sample "
                                             "(records without instruction/output fields).")] = False,
) -> None:
    """Rate instruction records with the paper's quality rater (rarity, complexity, informativeness, overall)."""
    import json

    from mixture_builder.teacher.rater import rate_records

    summary = rate_records(input, output, _config(config, no_cache), threshold=threshold, limit=limit,
                           dry_run=dry_run, text_only=plain_text)
    typer.echo(json.dumps(summary, indent=2))
