"""CLI subcommands of the readers package: ``lm-mixup read``."""

from __future__ import annotations

import typer

# Kept literal so that `lm-mixup --help` does not import the readers; a test checks it against the registry.
FORMAT_CHOICES = (
    "auto",
    "wikiextractor",
    "wikitext",
    "passages",
    "text",
    "alpaca",
    "dolly",
    "self_instruct",
    "gsm8k",
    "prompt_completion",
    "prompts",
    "car_pairs",
    "sharegpt",
    "messages",
    "lima",
    "oasst",
)


def register(app: typer.Typer) -> None:
    """Add this package's subcommands to ``app``."""
    app.command("read")(read)


def read(
    path: str = typer.Argument(..., help="File, folder, fsspec URL or Hub dataset id (org/name[:split])."),
    format: str = typer.Option("auto", "--format", "-f", help=f"Input format: {', '.join(FORMAT_CHOICES)}."),
    limit: int | None = typer.Option(None, "--limit", "-n", help="Print at most this many records."),
    on_error: str = typer.Option("raise", "--on-error", help="'raise' stops at bad input; 'skip' counts it."),
    source: str | None = typer.Option(None, help="Source name of every record (default: from SOURCE.md)."),
    license: str | None = typer.Option(None, help="License of every record (default: from SOURCE.md)."),
    text_key: str = typer.Option("text", help="Text column of passage records."),
    max_chars: int = typer.Option(500_000, help="Records with longer text are bad input."),
    encoding: str = typer.Option("utf-8", help="Text encoding of the files (e.g. latin-1)."),
    segment: int | None = typer.Option(None, help="Also split passages into windows of this many words."),
) -> None:
    """Print records as the pipelines will see them: one JSON object (text, id, metadata) per line."""
    import json
    import sys
    from itertools import islice

    from datatrove.utils.logging import logger

    from mixture_builder.readers.api import read_records
    from mixture_builder.readers.segment import PassageSegmenter

    logger.remove()  # keep datatrove's per-file INFO lines out of the user's terminal; warnings stay
    logger.add(sys.stderr, level="WARNING", format="{level} {message}")
    result = read_records(
        path,
        format=format,
        on_error=on_error,
        limit=None if segment else limit,
        source=source,
        license=license,
        text_key=text_key,
        max_chars=max_chars,
        encoding=encoding,
    )
    documents = PassageSegmenter(max_tokens=segment).run(result) if segment else result
    printed = 0
    try:
        for doc in islice(documents, limit):
            sys.stdout.write(
                json.dumps(
                    {"text": doc.text, "id": doc.id, "metadata": doc.metadata},
                    ensure_ascii=False,
                    default=str,
                )
                + "\n"
            )
            printed += 1
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        return
    counts = {k: int(v) for k, v in result.stats.items() if k.startswith(("dropped_", "skipped_", "empty_"))}
    summary = f"{printed} records" + (f"; {json.dumps(counts)}" if counts else "")
    typer.echo(summary, err=True)
