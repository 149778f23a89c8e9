"""CLI subcommands of the clustering package: ``lm-mixup dedup`` and ``lm-mixup cluster``."""

from __future__ import annotations

import typer

from mixture_builder.input_fingerprint import CONTENT_HASH_HELP

_FRESH_HELP = "Start over in an output folder made with other settings or inputs."

def register(app: typer.Typer) -> None:
    """Add this package's subcommands to ``app``."""
    app.command("dedup")(dedup)
    app.command("cluster")(cluster)


def dedup(
    path: str = typer.Argument(..., help="File or folder of raw instruction records (any readable format)."),
    output: str = typer.Option(..., "--output", "-o", help="Output folder (kept/, removed_exact/, removed_near/)."),
    format: str = typer.Option("auto", "--format", "-f",
                               help="Input format (see `lm-mixup read --help`); 'documents' for lm-mixup output."),
    on_error: str = typer.Option("raise", "--on-error", help="'raise' stops at bad input; 'skip' counts it."),
    tasks: int = typer.Option(1, help="Parallel datatrove tasks (files are spread over them)."),
    workers: int = typer.Option(-1, help="Processes running tasks at once (-1: up to 2)."),
    exact: bool = typer.Option(True, help="Remove exact duplicates (normalised instruction+input+output)."),
    near: bool = typer.Option(True, help="Remove MinHash near-duplicates (datatrove; ignores digits)."),
    input_hash: str = typer.Option("auto", "--input-hash", help=CONTENT_HASH_HELP),
    fresh: bool = typer.Option(False, "--fresh", help=_FRESH_HELP),
) -> None:
    """Remove exact and near duplicates; each removed record names the record it duplicates (duplicate_of)."""
    from mixture_builder.clustering.api import run_dedup

    kept = run_dedup(path, output, input_format=format, on_error=on_error, tasks=tasks, workers=workers,
                     exact=exact, near=near, input_hash=input_hash, fresh=fresh)
    typer.echo(f"kept records: {kept}")


def cluster(
    path: str = typer.Argument(..., help="File or folder of records (e.g. the kept/ folder of `dedup`)."),
    output: str = typer.Option(..., "--output", "-o", help="Output folder (records/ with cluster_id etc.)."),
    format: str = typer.Option("auto", "--format", "-f",
                               help="Input format (see `lm-mixup read --help`); 'documents' for folders written "
                                    "by `lm-mixup dedup`."),
    on_error: str = typer.Option("raise", "--on-error", help="'raise' stops at bad input; 'skip' counts it."),
    config: str | None = typer.Option(None, help="YAML file with a `clustering:` section (CapacityConfig)."),
    model: str | None = typer.Option(None, help="sentence-transformers model path or id (default: MiniLM)."),
    fields: str | None = typer.Option(None, help="Comma-separated fields to embed (default: instr+input+output)."),
    group_by: str = typer.Option("source", help="Metadata key to cluster separately by; '' clusters all together."),
    long_tail_k: int = typer.Option(15, help="Neighbours of the long-tail score; 0 skips it."),
    batch_size: int = typer.Option(64, help="Embedding batch size."),
    tasks: int = typer.Option(1, help="Parallel embedding tasks."),
    cluster_tasks: int = typer.Option(1, help="Parallel clustering tasks (groups are spread over them)."),
    workers: int = typer.Option(-1, help="Processes running tasks at once (-1: up to 2)."),
    input_hash: str = typer.Option("auto", "--input-hash", help=CONTENT_HASH_HELP),
    fresh: bool = typer.Option(False, "--fresh", help=_FRESH_HELP),
) -> None:
    """Embed, cluster into groups of min..max similar records per source, and score long-tail diversity."""
    from mixture_builder.clustering.api import run_clusters
    from mixture_builder.clustering.capacity import CapacityConfig

    cfg = CapacityConfig.from_yaml(config) if config else CapacityConfig()
    records = run_clusters(
        path, output, input_format=format, on_error=on_error, config=cfg, group_by=group_by or None,
        model_name=model, text_fields=[f.strip() for f in fields.split(",")] if fields else None,
        batch_size=batch_size, long_tail_k=long_tail_k or None, tasks=tasks, cluster_tasks=cluster_tasks,
        workers=workers, input_hash=input_hash, fresh=fresh,
    )
    typer.echo(f"clustered records: {records}")
