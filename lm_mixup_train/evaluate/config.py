"""``EvalConfig``: one `lm-mixup evaluate distiller` run — which distiller, on which MIXTURE split, scored how.

The distiller is the ``distiller:`` section of a distill config (``DistillerConfig``: a teacher-layer LLM or a
checkpoint run with transformers or vLLM), so a YAML written for `lm-mixup distill` evaluates as is.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

from mixture_builder.config_io import build_config, help_field, read_yaml_mapping
from mixture_builder.distill.config import DistillerConfig
from mixture_builder.errors import ConfigError
from mixture_builder.teacher.config import TeacherConfig

QUALITY_MODES = ("knn", "llm", "none")
MIXTURE_CONFIGS = ("sft", "grpo")


@dataclass
class EvalConfig:
    """A distiller evaluation on a MIXTURE test split (see the field help texts)."""

    dataset: str = help_field("MIXTURE: a local folder (data_sft/, data_grpo/) or a Hub dataset repo id.",
                              default="demo-output/mixture")
    dataset_config: str = help_field("MIXTURE config to evaluate on: 'sft' or 'grpo'.", default="sft")
    split: str = help_field("Split to evaluate on.", default="test")
    revision: str | None = help_field("Hub revision of `dataset`.", default=None)
    limit: int | None = help_field("Evaluate at most this many records (None: the whole split).", default=None)
    distiller: DistillerConfig = help_field(
        "The distiller: a teacher-layer LLM (distiller.teacher) or a checkpoint (distiller.checkpoint, engine).",
        default_factory=DistillerConfig)
    output: str = help_field("Output folder: eval.json, results.md, eval.png.", default="eval-output")
    quality_reward: str = help_field(
        "Quality metric: 'knn' (k-NN Bayesian scorer over `quality_library`), 'llm' (the rater configured by "
        "`quality_teacher`) or 'none'.", default="knn")
    quality_library: str | None = help_field(
        "Library built by `lm-mixup train build-quality-library` (.npz path).", default=None)
    quality_k: int = help_field("Neighbours of the k-NN quality scorer.", default=16)
    quality_teacher: TeacherConfig | None = help_field(
        "The LLM rater of quality_reward: llm (teacher-layer settings).", default=None)
    alignment_threshold: float = help_field("Cosine at or above which an answer counts as aligned.", default=0.8)
    embedding_model: str | None = help_field(
        "sentence-transformers model of alignment and quality (default: the library's, else the offline MiniLM).",
        default=None)
    embedding_device: str | None = help_field("Device of the embedding model (default: auto).", default=None)
    use_cache: bool = help_field("Answer repeated requests from the teacher's response cache.", default=True)
    card: bool = help_field("Add the results to the checkpoint's model card (model-index).", default=False)

    def __post_init__(self) -> None:
        if self.dataset_config not in MIXTURE_CONFIGS:
            raise ConfigError(f"unknown config {self.dataset_config!r}", field="dataset_config", fix="use sft or grpo")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"must be >= 1 or null, got {self.limit}", field="limit", fix="use a positive integer")
        if self.quality_reward not in QUALITY_MODES:
            raise ConfigError(f"unknown value {self.quality_reward!r}", field="quality_reward",
                              fix="use knn, llm or none")
        if self.quality_reward == "knn" and not self.quality_library:
            raise ConfigError("needed by quality_reward: knn", field="quality_library",
                              fix="build one with `lm-mixup train build-quality-library`, or set quality_reward none")
        if self.quality_reward == "llm" and self.quality_teacher is None:
            raise ConfigError("needed by quality_reward: llm", field="quality_teacher", fix="set backend/base_url/model")
        if self.quality_k < 1:
            raise ConfigError(f"must be >= 1, got {self.quality_k}", field="quality_k")
        if not -1.0 <= self.alignment_threshold <= 1.0:
            raise ConfigError(f"{self.alignment_threshold} is not a cosine", field="alignment_threshold",
                              fix="use a value in [-1, 1]")
        if self.card and not self.distiller.checkpoint:
            raise ConfigError("--card needs a checkpoint distiller", field="card",
                              fix="set distiller.checkpoint, or drop --card for a teacher")

    @property
    def distiller_name(self) -> str:
        """The distiller's name in tables and cards."""
        return self.distiller.model_id

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, *, source: str | None = None) -> EvalConfig:
        """Build from a mapping (a YAML file's content); unknown keys at any depth are errors naming their path."""
        return build_config(cls, data or {}, source=source)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str] | None, overrides: dict[str, Any] | None = None) -> EvalConfig:
        """Load a YAML file (its keys, then ``overrides``; ``distiller.*`` keys merge into the section)."""
        data = read_yaml_mapping(path) if path else {}
        return cls.from_dict(merge_overrides(data, overrides or {}), source=str(path) if path else None)


def merge_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``overrides`` applied; dotted keys (``distiller.checkpoint``) set nested values."""
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    for key, value in overrides.items():
        *parents, last = key.split(".")
        target = merged
        for part in parents:
            child = target.get(part)
            target[part] = child = dict(child) if isinstance(child, dict) else {}
            target = child
        target[last] = value
    return merged

