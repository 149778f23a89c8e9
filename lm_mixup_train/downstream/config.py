"""Settings of ``lm-mixup evaluate downstream``: candidates, the shared LoRA recipe, benchmarks, held-out NLL.

One :class:`DownstreamConfig` serves Python, the CLI and YAML (``configs/ab_*.yaml``); every section is a
dataclass validated on construction, loaded through :mod:`mixture_builder.config_io`.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mixture_builder.config_io import build_config, help_field, load_config
from mixture_builder.errors import ConfigError

LOCAL_TASKS = ("mmlu", "gsm8k", "bbh", "truthfulqa_mc1", "truthfulqa_mc2", "tydiqa")
"""Benchmarks shipped as lm-eval task configs over local files (``lm_mixup_train/downstream/tasks``)."""
HELDOUT_TASK = "heldout_nll"
"""The held-out metric: mean per-token NLL of reference responses (lower is better)."""
BACKENDS = ("hf", "vllm")
_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*$")


@dataclass
class CandidateSpec:
    """One training set to compare."""

    name: str = help_field("Short name: the table row and the folder under the output.")
    path: str = help_field("Dataset folder, JSON/JSONL/Parquet file, or Hub dataset id (org/name).")
    revision: str | None = help_field("Hub revision (commit, branch or tag) of a Hub candidate.", default=None)
    split: str = help_field("Split to train on.", default="train")
    config_name: str | None = help_field("Dataset config (e.g. 'sft'); None = the default one.", default=None)
    max_rows: int | None = help_field("Train on at most this many rows (first rows); None = all.", default=None)
    card: bool = help_field("Write the Evaluation section into this candidate's dataset card (local folders).",
                            default=True)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ConfigError(f"invalid candidate name {self.name!r}", field="candidates.name",
                              fix="use letters, digits, '-', '_' or '.'")
        if not self.path:
            raise ConfigError("empty candidate path", field=f"candidates[{self.name}].path")
        if self.max_rows is not None and self.max_rows < 1:
            raise ConfigError("max_rows must be ≥ 1", field=f"candidates[{self.name}].max_rows")


@dataclass
class TaskSpec:
    """One benchmark: a local task (see :data:`LOCAL_TASKS`), ``heldout_nll``, or any lm-eval task name."""

    shorthand_field = "name"  # `tasks: [gsm8k, {name: mmlu, limit: 5}]`

    name: str = help_field(f"One of {', '.join(LOCAL_TASKS)}, {HELDOUT_TASK}, or an lm-eval task (needs the Hub).")
    limit: int | None = help_field("Examples per (sub)task; None = all (BBH defaults to 40 per task).",
                                   default=None)
    num_fewshot: int | None = help_field("Override the task's shots; None = the reference setting.", default=None)
    max_gen_toks: int | None = help_field("Cap on generated tokens for generative tasks; None = the task's.",
                                          default=None)
    metric: str | None = help_field("Per-example metric of an lm-eval task (local tasks know theirs).", default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError("empty task name", field="tasks.name")
        for key in ("limit", "num_fewshot", "max_gen_toks"):
            value = getattr(self, key)
            if value is not None and (not isinstance(value, int) or value < (0 if key == "num_fewshot" else 1)):
                raise ConfigError(f"invalid {key} {value!r}", field=f"tasks[{self.name}].{key}",
                                  fix="give a positive integer or null")

    @property
    def is_local(self) -> bool:
        return self.name in LOCAL_TASKS


@dataclass
class LoraSettings:
    """PEFT LoRA adapter, identical for every candidate."""

    r: int = help_field("LoRA rank.", default=64)
    alpha: int = help_field("LoRA alpha.", default=16)
    dropout: float = help_field("LoRA dropout.", default=0.1)
    target_modules: list[str] = help_field("Modules to adapt ('all-linear' as a one-item list is allowed).",
                                           default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])

    def __post_init__(self) -> None:
        if self.r < 1 or self.alpha < 1 or not 0 <= self.dropout < 1:
            raise ConfigError("r and alpha must be ≥ 1 and dropout in [0, 1)", field="lora")


@dataclass
class TrainSettings:
    """TRL ``SFTTrainer`` settings, identical for every candidate (loss on the completion only)."""

    learning_rate: float = help_field("Peak learning rate.", default=1e-4)
    num_train_epochs: float = help_field("Epochs over the candidate.", default=5.0)
    max_length: int = help_field("Max tokens per example (longer ones are truncated by TRL).", default=2048)
    warmup_ratio: float = help_field("Warm-up as a fraction of the steps.", default=0.03)
    lr_scheduler_type: str = help_field("Learning-rate schedule.", default="linear")
    per_device_train_batch_size: int = help_field("Batch size per device.", default=1)
    gradient_accumulation_steps: int = help_field("Gradient accumulation steps.", default=128)
    bf16: bool = help_field("Train in bf16 (GPU).", default=False)
    seed: int = help_field("Seed of data order, LoRA init and dropout.", default=42)
    max_steps: int = help_field("Stop after this many optimizer steps (-1 = epochs decide).", default=-1)

    def __post_init__(self) -> None:
        if self.learning_rate <= 0 or self.num_train_epochs <= 0 or self.max_length < 16:
            raise ConfigError("learning_rate, num_train_epochs must be > 0 and max_length ≥ 16", field="training")
        if not 0 <= self.warmup_ratio < 1:
            raise ConfigError("warmup_ratio must be in [0, 1)", field="training.warmup_ratio")


@dataclass
class HeldoutSettings:
    """Held-out high-quality data whose reference responses are scored by mean per-token NLL."""

    path: str = help_field("File/folder any project reader reads (LIMA, OASST, Alpaca, messages …).", default="")
    format: str = help_field("Reader format ('auto' detects it).", default="auto")
    n: int = help_field("Held-out examples (the first n readable ones with a response).", default=100)
    max_length: int = help_field("Max tokens of prompt + response (the response is kept whole if it fits).",
                                 default=1024)
    batch_size: int = help_field("Examples per forward pass.", default=4)

    def __post_init__(self) -> None:
        if self.n < 1 or self.max_length < 16 or self.batch_size < 1:
            raise ConfigError("n, batch_size must be ≥ 1 and max_length ≥ 16", field="heldout")


@dataclass
class DecontSettings:
    """n-gram overlap check of every candidate against the test sets it is evaluated on (``distill``'s)."""

    n_grams: int = help_field("n of the word n-grams.", default=12)
    max_overlap: int = help_field("Refuse a candidate with more overlapping rows than this.", default=0)
    enabled: bool = help_field("Run the check (turning it off is recorded in results.json).", default=True)


@dataclass
class DownstreamConfig:
    """``lm-mixup evaluate downstream``: one base model, one LoRA recipe, every candidate, every task."""

    base_model: str = help_field("Base model: folder, Hub id, or 'embedded' (SmolLM2-135M-Instruct).")
    candidates: list[CandidateSpec] = help_field("The training sets to compare.", default_factory=list)
    tasks: list[TaskSpec] = help_field("Benchmarks (and heldout_nll).", default_factory=list)
    output: str = help_field("Output folder: results, models, per-pair records.", default="demo-output/ab")
    reference: str | None = help_field("Candidate the others are compared to; None = the first.", default=None)
    eval_data_dir: str = help_field("Folder with mmlu/, bbh/, truthfulqa/, tydiqa/ (see their SOURCE.md).",
                                    default="../shared/data/eval")
    gsm8k_file: str = help_field("GSM8K test JSONL.", default="../shared/data/raw/gsm8k/test.jsonl")
    backend: str = help_field("lm-eval model backend: 'hf' (transformers) or 'vllm'.", default="hf")
    device: str = help_field("Device for training and evaluation ('cpu', 'cuda', 'auto').", default="auto")
    eval_batch_size: int = help_field("lm-eval batch size.", default=8)
    apply_chat_template: bool = help_field("Prompt through the model's chat template (as the model was tuned).",
                                           default=True)
    bootstrap_samples: int = help_field("Bootstrap resamples for the 95% intervals.", default=1000)
    threads: int | None = help_field("torch CPU threads; None = torch's default.", default=None)
    lora: LoraSettings = help_field("LoRA adapter.", default_factory=LoraSettings)
    training: TrainSettings = help_field("SFT settings.", default_factory=TrainSettings)
    heldout: HeldoutSettings = help_field("Held-out NLL data.", default_factory=HeldoutSettings)
    decontamination: DecontSettings = help_field("Overlap check.", default_factory=DecontSettings)

    def __post_init__(self) -> None:
        if not self.base_model:
            raise ConfigError("base_model is required", field="base_model")
        if not self.candidates:
            raise ConfigError("no candidates", field="candidates", fix="list at least one {name, path}")
        if not self.tasks:
            raise ConfigError("no tasks", field="tasks", fix=f"list tasks, e.g. gsm8k, mmlu, {HELDOUT_TASK}")
        names = [c.name for c in self.candidates]
        if len(set(names)) != len(names):
            raise ConfigError("candidate names must be unique", field="candidates.name")
        tasks = [t.name for t in self.tasks]
        if len(set(tasks)) != len(tasks):
            raise ConfigError("task names must be unique", field="tasks.name")
        if self.reference is not None and self.reference not in names:
            raise ConfigError(f"reference {self.reference!r} is not a candidate", field="reference",
                              fix=f"use one of {', '.join(names)}")
        if self.backend not in BACKENDS:
            raise ConfigError(f"unknown backend {self.backend!r}", field="backend", fix=f"use {' or '.join(BACKENDS)}")
        if HELDOUT_TASK in tasks and not self.heldout.path:
            raise ConfigError(f"{HELDOUT_TASK} needs heldout.path", field="heldout.path")
        if self.eval_batch_size < 1 or self.bootstrap_samples < 100:
            raise ConfigError("eval_batch_size must be ≥ 1 and bootstrap_samples ≥ 100", field="eval_batch_size")

    @property
    def reference_name(self) -> str:
        return self.reference or self.candidates[0].name

    @classmethod
    def from_mapping(cls, data: Any, *, source: str | None = None) -> DownstreamConfig:
        """Build from a mapping (nested sections; tasks may be bare names)."""
        return build_config(cls, data, source=source)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> DownstreamConfig:
        """Load a YAML config; relative data paths are kept relative to the working directory."""
        return load_config(cls, path)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def output_dir(self) -> Path:
        return Path(self.output)
