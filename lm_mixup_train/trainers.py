"""Run the two training stages on MIXTURE with TRL: SFT cold start, then GRPO with the three rewards.

Both take a config (``config.LMMixupSFTConfig`` / ``LMMixupGRPOConfig``), train, write the final model and
tokenizer to ``{output_dir}/final`` with ``lm_mixup_training.json`` (data report, metrics), and publish it when
``push_to`` is set. Multi-GPU: ``accelerate launch -m lm_mixup_train.cli sft --config …`` runs the same code.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from lm_mixup_train.publish import SUMMARY_FILE, push_checkpoint
from lm_mixup_train.rewards import build_reward_functions
from mixture_builder.errors import ConfigError
from mixture_builder.teacher.embedded import embedded_model_dir

from .config import LMMixupGRPOConfig, LMMixupSFTConfig
from .data import load_mixture
from .formatting import FormatReport, prepare

logger = logging.getLogger(__name__)

FINAL_DIR = "final"
"""The final model is saved to ``{output_dir}/final`` (``checkpoint-*`` folders stay beside it)."""


EMBEDDED = "embedded"
"""``model_name_or_path: embedded`` names the embedded SmolLM2-135M-Instruct (converted from its GGUF once)."""


def resolve_model(name: str) -> str:
    """A model folder or Hub id; :data:`EMBEDDED` → the embedded SmolLM2 folder."""
    if name == EMBEDDED:
        return str(embedded_model_dir())
    return name


def load_tokenizer(model_name_or_path: str) -> Any:
    """The start model's tokenizer; a pad token is set (to EOS) if the model has none."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_name_or_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError(
            "the tokenizer has no chat template", path=model_name_or_path, fix="start from an instruct/chat model"
        )
    return tokenizer


def load_splits(config: Any, tokenizer: Any, kind: str) -> tuple[Any, Any, dict[str, FormatReport]]:
    """Train (and eval) datasets of ``kind`` ``"sft"``/``"grpo"``, formatted and length-checked."""
    limits = {
        "max_length": getattr(config, "max_length", None) if kind == "sft" else None,
        "max_prompt_length": getattr(config, "max_prompt_length", None),
    }
    reports: dict[str, FormatReport] = {}
    out = []
    for split in (config.train_split, config.eval_split):
        if split is None:
            out.append(None)
            continue
        raw = load_mixture(config.dataset, config.dataset_config, split, revision=config.dataset_revision)
        if split == config.train_split and config.max_samples is not None:
            raw = raw.select(range(min(config.max_samples, len(raw))))
        where = f"{config.dataset} [{config.dataset_config}/{split}]"
        data, reports[split] = prepare(
            raw, tokenizer, kind=kind, on_error=config.on_error, where=where,
            num_proc=getattr(config, "dataset_num_proc", None), **limits,
        )
        if reports[split].skipped:
            logger.warning("%s: skipped %s", where, dict(reports[split].skipped))
        out.append(data)
    return out[0], out[1], reports


def checkpoint_to_resume(output_dir: str, resume: bool | str) -> str | None:
    """``resume=True`` → the last ``checkpoint-*`` in ``output_dir`` (error if none); a path → that path."""
    if not resume:
        return None
    if isinstance(resume, str):
        return resume
    from transformers.trainer_utils import get_last_checkpoint

    last = get_last_checkpoint(output_dir) if Path(output_dir).is_dir() else None
    if last is None:
        raise ConfigError("no checkpoint-* folder to resume from", path=output_dir, fix="run without --resume")
    return last


def _prepare(config: LMMixupSFTConfig | LMMixupGRPOConfig, stage: str) -> tuple[Any, Any, Any, Any]:
    """Resolve the start model (see :func:`resolve_model`), load its tokenizer and the MIXTURE splits of
    ``stage``: ``(tokenizer, train, evaluation, reports)``."""
    config.model_name_or_path = resolve_model(config.model_name_or_path)
    tokenizer = load_tokenizer(config.model_name_or_path)
    train, evaluation, reports = load_splits(config, tokenizer, stage)
    return tokenizer, train, evaluation, reports


def sft_trainer(config: LMMixupSFTConfig) -> tuple[Any, dict[str, FormatReport]]:
    """TRL's ``SFTTrainer`` on MIXTURE's prompt-completion records (loss on the completion only, as set by
    ``config.completion_only_loss``) and the records kept/skipped per split."""
    from trl import SFTTrainer

    tokenizer, train, evaluation, reports = _prepare(config, "sft")
    trainer = SFTTrainer(
        model=config.model_name_or_path,
        args=config,
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=tokenizer,
    )
    return trainer, reports


def run_sft(config: LMMixupSFTConfig, *, resume: bool | str = False) -> Path:
    """Cold-start SFT; returns the folder of the final model."""
    trainer, reports = sft_trainer(config)
    return _train_and_save(trainer, config, "sft", reports, resume)


def run_grpo(config: LMMixupGRPOConfig, *, resume: bool | str = False) -> Path:
    """GRPO with the format, alignment and quality rewards; returns the folder of the final model."""
    from trl import GRPOTrainer

    tokenizer, train, evaluation, reports = _prepare(config, "grpo")
    trainer = GRPOTrainer(
        model=config.model_name_or_path,
        reward_funcs=build_reward_functions(config),
        args=config,
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=tokenizer,
    )
    return _train_and_save(trainer, config, "grpo", reports, resume)


def _train_and_save(trainer: Any, config: Any, stage: str, reports: dict[str, FormatReport], resume: bool | str) -> Path:
    result = trainer.train(resume_from_checkpoint=checkpoint_to_resume(config.output_dir, resume))
    final = Path(config.output_dir) / FINAL_DIR
    trainer.save_model(str(final))
    if trainer.accelerator.is_main_process:
        trainer.state.save_to_json(str(final / "trainer_state.json"))
        summary = {
            "stage": stage,
            "base_model": config.model_name_or_path,
            "dataset": config.dataset,
            "dataset_revision": config.dataset_revision,
            "dataset_config": config.dataset_config,
            "data": {split: report.as_dict() for split, report in reports.items()},
            "train_metrics": result.metrics,
        }
        if stage == "grpo":
            summary["reward_functions"] = list(trainer.reward_func_names)
            summary["reward_weights"] = list(config.reward_weights)
        (final / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, default=str) + "\n")
        if config.push_to:
            push_checkpoint(final, config.push_to, config=config, private=config.push_private)
    return final
