"""Regenerate the card of a built folder (``lm-mixup card DIR``): a dataset folder or a checkpoint folder.

Dataset folders: the card is computed from the Parquet shards plus ``stats.json`` (schema in
:mod:`dataset_cards.build_stats`). Checkpoint folders: from ``trainer_state.json`` plus ``training_info.json``,
a JSON object with :class:`~dataset_cards.model_card.ModelCardInfo` fields (``base_model``, ``stage``,
``dataset_repo``, ``dataset_revision``, ``dataset_config``, ``training_config``, ``reward_weights``, …;
``write_model_card`` saves it; unknown keys are ignored, missing ones get defaults).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from dataset_cards.build_stats import info_from_stats, load_stats_json
from dataset_cards.dataset_card import write_dataset_card
from dataset_cards.model_card import TRAINING_INFO_FILE, ModelCardInfo, write_model_card
from dataset_cards.shards import folder_configs
from mixture_builder.errors import ConfigError, InputError

KINDS = ("auto", "dataset", "model")
_MODEL_FILES = ("config.json", "model.safetensors", "model.safetensors.index.json", "adapter_config.json",
                "trainer_state.json", TRAINING_INFO_FILE)  # fmt: skip


def detect_kind(folder: str | Path) -> str:
    """``"dataset"`` when the folder has Parquet shards, ``"model"`` when it looks like a checkpoint."""

    path = Path(folder)
    if not path.is_dir():
        raise InputError("folder not found", path=str(path), fix="pass a built dataset or checkpoint folder")
    if folder_configs(path):
        return "dataset"
    if any((path / name).exists() for name in _MODEL_FILES) or any(
        path.glob("checkpoint-*/trainer_state.json")
    ):
        return "model"
    raise InputError(
        "neither Parquet shards (data/, data_<config>/) nor a checkpoint (config.json, trainer_state.json) found",
        path=str(path),
        fix="pass the output folder of lm-mixup build/distill/train, or use --kind",
    )


def regenerate_card(folder: str | Path, kind: str = "auto") -> Path:
    """Rewrite ``folder/README.md`` (and its figures); returns the card's path."""
    if kind not in KINDS:
        raise ConfigError(f"unknown card kind {kind!r}", field="kind", fix=f"use one of {', '.join(KINDS)}")
    path = Path(folder)
    kind = detect_kind(path) if kind == "auto" else kind
    if kind == "dataset":
        name = _existing_pretty_name(path) or path.resolve().name
        return write_dataset_card(path, info_from_stats(load_stats_json(path), default_name=name))

    return write_model_card(path, load_training_info(path))


def _existing_pretty_name(folder: Path) -> str | None:
    """The ``pretty_name`` of the folder's current card, so a regenerated card keeps its title."""
    import yaml
    from huggingface_hub.repocard import metadata_load

    readme = folder / "README.md"
    try:
        name = (metadata_load(readme) or {}).get("pretty_name") if readme.is_file() else None
    except (ValueError, yaml.YAMLError):
        return None
    return str(name) if name else None


def load_training_info(folder: str | Path) -> Any:
    """``ModelCardInfo`` from ``folder/training_info.json`` (base model ``unknown`` when it is absent)."""

    file = Path(folder) / TRAINING_INFO_FILE
    data: dict[str, Any] = {}
    if file.is_file():
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise InputError(f"invalid JSON: {error.msg}", path=str(file), line=error.lineno) from error
        if not isinstance(data, dict):
            raise InputError(
                "expected a JSON object", path=str(file), fix="write ModelCardInfo fields as an object"
            )
    known = {f.name for f in dataclasses.fields(ModelCardInfo)}
    values = {k: v for k, v in data.items() if k in known and v is not None}
    values.setdefault("base_model", "unknown")
    return ModelCardInfo(**values)
