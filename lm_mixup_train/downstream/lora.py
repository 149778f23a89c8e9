"""Fine-tune the base model on one candidate: TRL ``SFTTrainer`` + PEFT LoRA, loss on the completion only.

Every candidate gets the same recipe (:class:`~lm_mixup_train.downstream.config.TrainSettings`,
:class:`~lm_mixup_train.downstream.config.LoraSettings`, same seed). The adapter is merged into the base
weights and saved as a plain checkpoint (what lm-eval's ``hf`` and ``vllm`` backends load); the folder is
written under a temporary name and renamed when complete, so a killed run never leaves half a model.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from lm_mixup_train.trainers import load_tokenizer

from .candidates import CandidateData
from .config import DownstreamConfig
from .harness import resolve_device

logger = logging.getLogger(__name__)

MODEL_DIR = "model"
INFO_FILE = "lora_training.json"


def sft_config(config: DownstreamConfig, output_dir: Path) -> Any:
    """TRL ``SFTConfig`` of the shared recipe (no intermediate checkpoints: a candidate trains in one go)."""
    from trl import SFTConfig

    t = config.training
    cpu = resolve_device(config.device) == "cpu"
    return SFTConfig(
        output_dir=str(output_dir), learning_rate=t.learning_rate, num_train_epochs=t.num_train_epochs,
        max_steps=t.max_steps, max_length=t.max_length, warmup_steps=t.warmup_ratio,
        lr_scheduler_type=t.lr_scheduler_type, per_device_train_batch_size=t.per_device_train_batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps, bf16=t.bf16 and not cpu, seed=t.seed,
        data_seed=t.seed, completion_only_loss=True, use_cpu=cpu, report_to="none", save_strategy="no",
        logging_steps=1, disable_tqdm=False,
    )


def lora_config(config: DownstreamConfig) -> Any:
    from peft import LoraConfig

    lora = config.lora
    targets: Any = lora.target_modules[0] if lora.target_modules == ["all-linear"] else list(lora.target_modules)
    return LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=targets,
                      task_type="CAUSAL_LM", bias="none")


def is_trained(out_dir: Path) -> bool:
    """Whether ``out_dir`` holds a complete merged model (written by :func:`train_candidate`)."""
    return (out_dir / MODEL_DIR / INFO_FILE).is_file()


def train_candidate(config: DownstreamConfig, base_model: str, data: CandidateData, out_dir: Path) -> Path:
    """Train the LoRA adapter on ``data``, merge it, save to ``out_dir/model``; returns that folder."""
    import datasets
    import torch
    from transformers import AutoModelForCausalLM
    from trl import SFTTrainer

    final = out_dir / MODEL_DIR
    if is_trained(out_dir):
        return final
    work = out_dir / "trainer"
    tokenizer = load_tokenizer(base_model)
    args = sft_config(config, work)
    model = AutoModelForCausalLM.from_pretrained(base_model, dtype=torch.bfloat16 if args.bf16 else torch.float32)
    train = datasets.Dataset.from_list([e.as_row() for e in data.examples])
    trainer = SFTTrainer(model=model, args=args, train_dataset=train, processing_class=tokenizer,
                         peft_config=lora_config(config))
    result = trainer.train()
    merged = trainer.model.merge_and_unload()
    tmp = out_dir / f".{MODEL_DIR}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    merged.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    info = {"candidate": data.spec.name, "base_model": config.base_model, "rows": len(data.examples),
            "skipped": data.skipped, "digest": data.digest, "train_metrics": result.metrics,
            "lora": config.to_dict()["lora"], "training": config.to_dict()["training"]}
    (tmp / INFO_FILE).write_text(json.dumps(info, indent=2, default=str) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    shutil.rmtree(work, ignore_errors=True)
    return final
