"""``lm-mixup train …``: SFT, GRPO, the reward pre-flight and the quality library.

Multi-GPU runs go through accelerate with the same commands:
``accelerate launch --num_processes 8 -m lm_mixup_train.cli grpo --config configs/train_grpo_gpu.yaml``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from mixture_builder.boundary import run_cli

train_app = typer.Typer(
    name="train",
    help="Train LM-Mixup on MIXTURE: SFT cold start, GRPO with quality/alignment/format rewards.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Config = Annotated[Path, typer.Option("--config", "-c", help="YAML config (see configs/train_*.yaml).")]
PushTo = Annotated[
    str | None, typer.Option("--push-to", help="Hub model repo to publish the final model to (with a model card).")
]
Resume = Annotated[bool, typer.Option("--resume", help="Resume from the last checkpoint-* in output_dir.")]
Set = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a config field: key=value (value parsed as YAML); repeatable."),
]


def parse_overrides(items: list[str] | None, **flags: Any) -> dict[str, Any]:
    """``["lr=1e-5", …]`` (+ flags that are not None) → a dict of config overrides."""
    import yaml

    from mixture_builder.errors import ConfigError

    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r} is not key=value", fix="e.g. --set max_steps=10")
        out[key.strip()] = yaml.safe_load(value)
    out.update({key: value for key, value in flags.items() if value is not None})
    return out


@train_app.command("sft")
def sft_command(config: Config, push_to: PushTo = None, resume: Resume = False, set_: Set = None) -> None:
    """Cold-start SFT on MIXTURE's sft config."""
    from .config import LMMixupSFTConfig, load_config
    from .trainers import run_sft

    cfg = load_config(LMMixupSFTConfig, config, parse_overrides(set_, push_to=push_to))
    typer.echo(f"final model: {run_sft(cfg, resume=resume)}")


@train_app.command("grpo")
def grpo_command(config: Config, push_to: PushTo = None, resume: Resume = False, set_: Set = None) -> None:
    """GRPO on MIXTURE's grpo config with the quality, alignment and format rewards."""
    from .config import LMMixupGRPOConfig, load_config
    from .trainers import run_grpo

    cfg = load_config(LMMixupGRPOConfig, config, parse_overrides(set_, push_to=push_to))
    typer.echo(f"final model: {run_grpo(cfg, resume=resume)}")


@train_app.command("check-rewards")
def check_rewards_command(
    config: Config,
    groups: Annotated[int, typer.Option("--groups", help="Prompts to sample a group of completions for.")] = 4,
    seed: Annotated[int, typer.Option("--seed", help="Sampling seed.")] = 0,
    set_: Set = None,
) -> None:
    """Sample a few groups from the start model and report per-reward mean, within-group std, zero-variance
    groups, format hit rate and truncation rate. The last line is the report as JSON."""
    from .config import LMMixupGRPOConfig, load_config
    from .preflight import check_rewards

    cfg = load_config(LMMixupGRPOConfig, config, parse_overrides(set_))
    report = check_rewards(cfg, num_prompts=groups, seed=seed)
    typer.echo(report.render())
    typer.echo(json.dumps({k: v for k, v in report.as_dict().items() if k != "examples"}))


@train_app.command("build-quality-library")
def build_quality_library_command(
    source: Annotated[str, typer.Argument(help="MIXTURE folder or Hub repo, or a rated .jsonl/.json/.parquet/.csv.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Library path (writes {stem}.npz and {stem}.json).")],
    revision: Annotated[str | None, typer.Option(help="Hub revision of a MIXTURE repo.")] = None,
    text_field: Annotated[str, typer.Option(help="Text column of a rated file.")] = "text",
    score_field: Annotated[str, typer.Option(help="Integer 0–5 score column of a rated file.")] = "score",
    input_score: Annotated[int | None, typer.Option(
        help="Label every low-quality cluster item of a MIXTURE with this fixed score instead of rating it.")] = None,
    rater_config: Annotated[Path | None, typer.Option(
        help="YAML with the rater of the cluster items (its `teacher:` section; default: the embedded model).")] = None,
    scores_file: Annotated[Path | None, typer.Option(
        help="Rated .jsonl/.json/.parquet/.csv (--text-field, --score-field) whose scores are used for the cluster "
             "items it holds; the rest are rated.")] = None,
    embedding_model: Annotated[
        str | None, typer.Option(help="sentence-transformers model (default: the offline MiniLM).")
    ] = None,
    on_error: Annotated[str, typer.Option(help="Bad rows of a rated file: raise or skip (counted).")] = "raise",
) -> None:
    """Build the rated-sample library of the k-NN quality reward. From a MIXTURE, targets keep their quality
    and the low-quality cluster items are rated by the teacher's rater (cached), unless --input-score is given."""
    from mixture_builder.teacher.config import TeacherConfig

    from .rewards.quality_library import build_quality_library

    rater = TeacherConfig.from_yaml(rater_config) if rater_config is not None else None
    library = build_quality_library(
        source, output, revision=revision, text_field=text_field, score_field=score_field,
        input_score=input_score, rater=rater, scores_file=scores_file, model_name=embedding_model, on_error=on_error,
    )
    typer.echo(json.dumps(library.meta))


def register(app: typer.Typer) -> None:
    """Add ``lm-mixup train …`` to the root app."""
    app.add_typer(train_app, name="train")


def main() -> None:
    """Run the ``train`` commands directly (``python -m lm_mixup_train.cli`` / ``accelerate launch -m``)."""
    run_cli(train_app, prog_name="lm-mixup train")


if __name__ == "__main__":
    main()
