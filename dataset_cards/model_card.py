"""Model cards for LM-Mixup checkpoints: ``ModelCardData`` + a Jinja template + training curves.

Curves come from the Trainer's ``trainer_state.json`` (``log_history``) in the checkpoint folder or, when it
is absent there, in its newest ``checkpoint-*/`` subfolder: loss, rewards (total and per reward function),
learning rate, KL/entropy and completion length, whichever were logged. Figures go to ``figures/*.png``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from dataset_cards.dataset_card import LM_MIXUP_CITATION, table_cells
from dataset_cards.plots import line_chart
from dataset_cards.redact import strip_secrets
from mixture_builder.errors import ConfigError, InputError

FIGURES_DIR = "figures"
TRAINING_INFO_FILE = "training_info.json"
STAGES = ("sft", "grpo")
_REPO_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

# (file stem, title, which log keys belong on the plot)
CURVES: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    ("loss", "Loss", lambda k: k in ("loss", "eval_loss", "policy_loss")),
    ("rewards", "Rewards", lambda k: k in ("reward", "eval_reward") or (k.startswith("rewards/") and k.endswith("/mean"))),
    ("learning_rate", "Learning rate", lambda k: k == "learning_rate"),
    ("kl_entropy", "KL and entropy", lambda k: k in ("kl", "entropy")),
    ("completion_length", "Completion length", lambda k: k == "completions/mean_length"),
)  # fmt: skip


@dataclass
class ModelCardInfo:
    """What the training run knows about a checkpoint."""

    base_model: str = field(metadata={"help": "Model the run started from (Hub id or local path)."})
    stage: str = field(default="sft", metadata={"help": "Training stage: 'sft' or 'grpo'."})
    dataset_repo: str | None = field(
        default=None, metadata={"help": "Training data: Hub dataset id or path."}
    )
    dataset_revision: str | None = field(
        default=None, metadata={"help": "Revision (commit/branch) of the data."}
    )
    dataset_config: str | None = field(default=None, metadata={"help": "Config of the data (e.g. 'sft')."})
    training_config: dict[str, Any] = field(default_factory=dict, metadata={"help": "Trainer config values."})
    reward_weights: dict[str, float] = field(default_factory=dict, metadata={"help": "Reward name → weight."})
    model_name: str | None = field(default=None, metadata={"help": "Name shown as the card title."})
    summary: str = field(default="", metadata={"help": "One paragraph on the model."})
    license: str | None = field(default=None, metadata={"help": "Hub license id of the checkpoint."})
    language: list[str] = field(default_factory=lambda: ["en"], metadata={"help": "ISO 639 language codes."})
    tags: list[str] = field(default_factory=list, metadata={"help": "Extra Hub tags."})
    extra: dict[str, Any] = field(default_factory=dict, metadata={"help": "More facts shown as a table."})

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ConfigError(
                f"unknown training stage {self.stage!r}", field="stage", fix="use 'sft' or 'grpo'"
            )
        if not self.base_model:
            raise ConfigError(
                "base_model must not be empty", field="base_model", fix="name the starting model"
            )


def find_trainer_state(checkpoint_dir: str | Path) -> Path | None:
    """``trainer_state.json`` in the folder, else in its ``checkpoint-<step>/`` with the highest step."""
    folder = Path(checkpoint_dir)
    if (folder / "trainer_state.json").is_file():
        return folder / "trainer_state.json"
    candidates = [p for p in folder.glob("checkpoint-*/trainer_state.json") if p.parent.name[11:].isdigit()]
    return max(candidates, key=lambda p: int(p.parent.name[11:]), default=None)


def load_log_history(checkpoint_dir: str | Path) -> list[dict[str, Any]]:
    """The Trainer's ``log_history`` (empty when no ``trainer_state.json`` is found)."""
    path = find_trainer_state(checkpoint_dir)
    if path is None:
        return []
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(f"invalid JSON: {error.msg}", path=str(path), line=error.lineno) from error
    history = state.get("log_history") if isinstance(state, dict) else None
    return [entry for entry in history or [] if isinstance(entry, dict)]


def curve_series(history: list[dict[str, Any]]) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """``{plot: {log key: [(step, value)]}}`` for each curve in :data:`CURVES` that was logged."""
    plots: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for index, entry in enumerate(history):
        step = entry.get("step", index)
        for key, value in entry.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            for stem, _, wanted in CURVES:
                if wanted(key):
                    plots.setdefault(stem, {}).setdefault(key, []).append((step, float(value)))
    return plots


def write_model_card(checkpoint_dir: str | Path, info: ModelCardInfo) -> Path:
    """Render ``checkpoint_dir/README.md`` (and ``figures/*.png`` from the training logs); ``info`` is saved
    as ``training_info.json`` (secrets removed) so ``lm-mixup card`` can render the card again."""
    from huggingface_hub import ModelCard, ModelCardData

    folder = Path(checkpoint_dir)
    if not folder.is_dir():
        raise InputError(
            "checkpoint folder not found", path=str(folder), fix="pass the folder the trainer saved"
        )
    history = load_log_history(folder)
    figures = _write_curves(folder, history)
    hub_ids = [x for x in (info.base_model, info.dataset_repo) if x and _REPO_ID_RE.match(x)]
    card_data = ModelCardData(
        model_name=info.model_name or folder.name,
        base_model=info.base_model if info.base_model in hub_ids else None,
        datasets=[info.dataset_repo] if info.dataset_repo in hub_ids else None,
        language=info.language or None,
        license=info.license,
        library_name="transformers",
        pipeline_tag="text-generation",
        tags=list(dict.fromkeys(["lm-mixup", "instruction-distillation", "trl", info.stage, *info.tags])),
    )
    final = {k: v for entry in history for k, v in entry.items() if isinstance(v, (int, float))}
    template = (
        resources.files("dataset_cards").joinpath("templates/model_card.md").read_text(encoding="utf-8")
    )
    card = ModelCard.from_template(
        card_data,
        template_str=template,
        info=info,
        title=info.model_name or folder.name,
        training_config=table_cells(strip_secrets(info.training_config)),
        extra=table_cells(strip_secrets(info.extra)),
        figures=figures,
        final_metrics=final,
        n_log_entries=len(history),
        lm_mixup_citation=LM_MIXUP_CITATION,
    )
    path = folder / "README.md"
    card.save(path)
    record = strip_secrets(dataclasses.asdict(info))
    (folder / TRAINING_INFO_FILE).write_text(
        json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8"
    )
    return path


def _write_curves(folder: Path, history: list[dict[str, Any]]) -> list[dict[str, str]]:
    figures_dir = folder / FIGURES_DIR
    for old in figures_dir.glob("*.png") if figures_dir.is_dir() else []:
        old.unlink()
    figures = []
    titles = {stem: title for stem, title, _ in CURVES}
    for stem, series in curve_series(history).items():
        line_chart(series, figures_dir / f"{stem}.png", title=titles[stem])
        figures.append({"title": titles[stem], "path": f"{FIGURES_DIR}/{stem}.png"})
    return figures
