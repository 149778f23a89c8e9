"""``lm-mixup evaluate …``: intrinsic evaluation of a distiller on MIXTURE (`evaluate distiller`); other
evaluations register their commands on the same ``evaluate_app`` group."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from lm_mixup_train.downstream import cli as downstream_cli

evaluate_app = typer.Typer(
    name="evaluate",
    help="Evaluate distillers and the data they make.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@evaluate_app.command("distiller")
def distiller_command(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML EvalConfig (a `distiller:` section "
                                                "as in distill configs, dataset, quality_library, …).")] = None,
    dataset: Annotated[str | None, typer.Option(help="MIXTURE folder or Hub dataset id.")] = None,
    dataset_config: Annotated[str | None, typer.Option("--dataset-config", help="sft or grpo.")] = None,
    split: Annotated[str | None, typer.Option(help="Split to evaluate on (default: test).")] = None,
    limit: Annotated[int | None, typer.Option(help="Evaluate at most this many records.")] = None,
    checkpoint: Annotated[str | None, typer.Option(help="Checkpoint folder or Hub model id (else the teacher).")] = None,
    engine: Annotated[str | None, typer.Option(help="Checkpoint engine: transformers or vllm.")] = None,
    teacher_config: Annotated[Path | None, typer.Option(help="YAML with the teacher (its `teacher:` section).")] = None,
    max_new_tokens: Annotated[int | None, typer.Option(help="Most tokens written per record.")] = None,
    quality_library: Annotated[str | None, typer.Option(help="k-NN quality library (.npz).")] = None,
    quality_reward: Annotated[str | None, typer.Option(help="knn, llm or none.")] = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Output folder.")] = None,
    card: Annotated[bool, typer.Option("--card", help="Add the results to the checkpoint's model card.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Bypass the teacher's response cache.")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Raw generation: no format guidance (strict evaluation of "
                                      "a trained checkpoint).")] = False,
) -> None:
    """Score a distiller on a MIXTURE split (format, alignment, quality) beside the longest-input and
    first-input baselines; print the table, write eval.json, results.md and eval.png."""
    from mixture_builder.teacher.config import TeacherConfig

    from .config import EvalConfig
    from .distiller import evaluate_distiller

    overrides = {"dataset": dataset, "dataset_config": dataset_config, "split": split, "limit": limit,
                 "distiller.checkpoint": checkpoint, "distiller.engine": engine,
                 "distiller.max_new_tokens": max_new_tokens, "quality_library": quality_library,
                 "quality_reward": quality_reward, "output": output, "card": card or None,
                 "use_cache": False if no_cache else None, "distiller.guided": False if raw else None}
    if teacher_config is not None:
        overrides["distiller.teacher"] = TeacherConfig.from_yaml(teacher_config).to_dict()
    cfg = EvalConfig.from_yaml(config, {k: v for k, v in overrides.items() if v is not None})
    report = evaluate_distiller(cfg)
    typer.echo(report.title() + "\n")
    typer.echo(report.to_markdown())
    typer.echo(f"wrote {Path(cfg.output) / 'eval.json'}, results.md, eval.png"
               + (f"; card: {report.meta['card']}" if cfg.card else ""))
    typer.echo(json.dumps(report.headline()))


def register(app: typer.Typer) -> None:
    """Add ``lm-mixup evaluate …`` (``distiller`` here, ``downstream`` from its own package) to the root app."""
    downstream_cli.register(evaluate_app)
    app.add_typer(evaluate_app, name="evaluate")
