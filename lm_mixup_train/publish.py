"""Publish a trained checkpoint: a model card (with training curves) and a push to a Hub model repo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dataset_cards.model_card import ModelCardInfo, write_model_card
from hub.push import push_folder
from mixture_builder.errors import InputError

SUMMARY_FILE = "lm_mixup_training.json"
"""What a finished training run writes beside its final model (records kept and skipped, settings)."""

CARD_CONFIG_KEYS = (
    "learning_rate", "num_train_epochs", "max_steps", "per_device_train_batch_size", "gradient_accumulation_steps",
    "warmup_steps", "weight_decay", "lr_scheduler_type", "bf16", "max_length", "seed",
    "num_generations", "temperature", "beta", "max_completion_length", "max_prompt_length", "generation_batch_size",
    "loss_type", "use_vllm", "quality_reward", "quality_k", "alignment_threshold", "alignment_mode",
    "embedding_model",
)  # fmt: skip
"""Trainer settings shown on the model card."""


def card_info(checkpoint_dir: Path, config: Any, summary: dict[str, Any]) -> Any:
    """``ModelCardInfo`` for a checkpoint trained with ``config`` (its run summary holds the data report)."""

    values = config.to_dict()
    weights = dict(zip(summary.get("reward_functions", []), summary.get("reward_weights", [])))
    stage = summary["stage"]
    return ModelCardInfo(
        base_model=config.model_name_or_path,
        stage=stage,
        dataset_repo=config.dataset,
        dataset_revision=config.dataset_revision,
        dataset_config=config.dataset_config,
        training_config={key: values[key] for key in CARD_CONFIG_KEYS if key in values},
        reward_weights=weights,
        model_name=config.push_to.split("/")[-1] if config.push_to else checkpoint_dir.name,
        summary=f"Trained with `lm-mixup train {stage}` on {_records(summary)}.",
        extra={f"records ({split})": json.dumps(report) for split, report in summary.get("data", {}).items()},
    )


def _records(summary: dict[str, Any]) -> str:
    train = summary.get("data", {}).get("train", {})
    skipped = sum(train.get("skipped", {}).values())
    return f"{train.get('kept', '?')} MIXTURE records" + (f" ({skipped} skipped: too long or invalid)" if skipped else "")


def push_checkpoint(
    checkpoint_dir: str | Path, repo_id: str, *, config: Any, private: bool = False, revision: str | None = None
) -> str:
    """Write the model card into ``checkpoint_dir`` (from its run summary and ``config``) and push the folder
    to the model repo ``repo_id``; returns the commit URL/id ``hub.push.push_folder`` reports."""

    folder = Path(checkpoint_dir)
    summary_path = folder / SUMMARY_FILE
    if not summary_path.is_file():
        raise InputError("not a finished LM-Mixup training run", path=str(folder), fix=f"missing {SUMMARY_FILE}")
    write_model_card(folder, card_info(folder, config, json.loads(summary_path.read_text())))
    return push_folder(folder, repo_id, repo_type="model", private=private, revision=revision,
                       message=f"Upload LM-Mixup checkpoint from {folder.name}")
