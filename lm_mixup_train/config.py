"""Trainer configs: TRL's ``SFTConfig`` / ``GRPOConfig`` plus the LM-Mixup run fields, loadable from YAML.

Every TRL / ``TrainingArguments`` field is accepted as is (``learning_rate``, ``use_vllm``, ``beta`` …);
the fields below add the model, the MIXTURE dataset, the rewards and publishing. See ``configs/train_*.yaml``
for the CPU preset and the paper's GPU preset. They load with the project's one loader,
``mixture_builder.config_io.load_config(cls, path, overrides)`` (re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trl import GRPOConfig, SFTConfig

from mixture_builder.config_io import load_config
from mixture_builder.errors import ConfigError

__all__ = ["REWARD_NAMES", "LMMixupGRPOConfig", "LMMixupSFTConfig", "load_config"]


@dataclass
class _RunFields:
    """Fields shared by both stages."""

    model_name_or_path: str | None = field(
        default=None, metadata={"help": "Start model: a local folder or a Hub id (e.g. the SFT checkpoint for GRPO)."}
    )
    dataset: str | None = field(
        default=None, metadata={"help": "MIXTURE: a local folder (data_sft/, data_grpo/) or a Hub dataset repo id."}
    )
    dataset_revision: str | None = field(default=None, metadata={"help": "Hub revision of `dataset`."})
    train_split: str = field(default="train", metadata={"help": "Split to train on."})
    eval_split: str | None = field(default=None, metadata={"help": "Split to evaluate on (e.g. 'test'); none if unset."})
    max_samples: int | None = field(default=None, metadata={"help": "Use at most this many training records."})
    on_error: str = field(
        default="raise", metadata={"help": "Invalid MIXTURE records: 'raise' (one clear error) or 'skip' (counted)."}
    )
    push_to: str | None = field(
        default=None, metadata={"help": "Hub model repo to publish the final checkpoint to, with a model card."}
    )
    push_private: bool = field(default=False, metadata={"help": "Create the `push_to` repo as private."})

    def _check_run_fields(self) -> None:
        if not self.model_name_or_path:
            raise ConfigError("missing", field="model_name_or_path", fix="set a local model folder or a Hub id")
        if not self.dataset:
            raise ConfigError("missing", field="dataset", fix="set a MIXTURE folder or Hub dataset repo id")
        if self.on_error not in ("raise", "skip"):
            raise ConfigError(f"unknown value {self.on_error!r}", field="on_error", fix="use 'raise' or 'skip'")
        if self.max_samples is not None and self.max_samples < 1:
            raise ConfigError(f"{self.max_samples} is not positive", field="max_samples")


@dataclass
class LMMixupSFTConfig(SFTConfig, _RunFields):
    """Cold-start SFT on MIXTURE's ``sft`` config (prompt-completion, loss on the completion only)."""

    dataset_config: str = field(default="sft", metadata={"help": "MIXTURE config to train on."})
    completion_only_loss: bool | None = field(
        default=True,
        metadata={"help": "Train on the completion tokens only (the paper); the prompt's tokens get label -100."},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self._check_run_fields()


REWARD_NAMES = ("format", "alignment", "quality")


@dataclass
class LMMixupGRPOConfig(GRPOConfig, _RunFields):
    """GRPO on MIXTURE's ``grpo`` config with the format, alignment and quality rewards."""

    dataset_config: str = field(default="grpo", metadata={"help": "MIXTURE config to train on."})
    max_prompt_length: int | None = field(
        default=2400, metadata={"help": "Prompts longer than this many tokens are skipped (counted), not truncated."}
    )
    quality_reward: str = field(
        default="knn",
        metadata={"help": "Quality reward: 'knn' (k-NN Bayesian scorer over `quality_library`), 'llm' (LLM rater "
                  "configured by `quality_teacher`) or 'none'."},
    )
    quality_library: str | None = field(
        default=None, metadata={"help": "Library built by `lm-mixup train build-quality-library` (.npz path)."}
    )
    quality_k: int = field(default=16, metadata={"help": "Neighbours of the k-NN quality scorer."})
    quality_teacher: dict[str, Any] | None = field(
        default=None, metadata={"help": "TeacherConfig fields of the LLM rater (quality_reward: llm)."}
    )
    alignment_threshold: float = field(default=0.8, metadata={"help": "Cosine at or above which alignment is 1."})
    alignment_mode: str = field(default="binary", metadata={"help": "'binary' (threshold) or 'continuous' (cosine)."})
    embedding_model: str | None = field(
        default=None,
        metadata={"help": "sentence-transformers model for alignment and quality (default: the offline MiniLM; "
                  "the paper uses BAAI/bge-m3)."},
    )
    embedding_device: str | None = field(
        default=None,
        metadata={"help": "Device of the reward embedding model, e.g. 'cpu', 'cuda:1' (default: cpu with use_cpu, else "
                  "this process's GPU, cuda:$LOCAL_RANK, when CUDA is available, else cpu)."},
    )
    quality_weight: float = field(default=0.5, metadata={"help": "Weight of the quality reward."})
    alignment_weight: float = field(default=0.4, metadata={"help": "Weight of the alignment reward."})
    format_weight: float = field(default=0.1, metadata={"help": "Weight of the format reward."})

    def __post_init__(self) -> None:
        if self.reward_weights is not None:
            raise ConfigError(
                "set by the trainer", field="reward_weights", fix="use quality_weight, alignment_weight, format_weight"
            )
        super().__post_init__()
        self._check_run_fields()
        if self.quality_reward not in ("knn", "llm", "none"):
            raise ConfigError(f"unknown value {self.quality_reward!r}", field="quality_reward", fix="use knn, llm or none")
        if self.quality_reward == "knn" and not self.quality_library:
            raise ConfigError(
                "needed by quality_reward: knn",
                field="quality_library",
                fix="build one with `lm-mixup train build-quality-library` or set quality_reward: none",
            )
        if self.quality_reward == "llm" and not self.quality_teacher:
            raise ConfigError("needed by quality_reward: llm", field="quality_teacher", fix="set backend/base_url/model")
        if self.embedding_device:
            import torch

            try:
                torch.device(self.embedding_device)
            except (RuntimeError, ValueError):
                raise ConfigError(f"unknown device {self.embedding_device!r}", field="embedding_device",
                                  fix="use e.g. cpu, cuda or cuda:0, or leave it unset") from None
        if self.alignment_mode not in ("binary", "continuous"):
            raise ConfigError(f"unknown value {self.alignment_mode!r}", field="alignment_mode")
        self.reward_weights = [self.format_weight, self.alignment_weight] + (
            [self.quality_weight] if self.quality_reward != "none" else []
        )
