"""SFT trains on the completion only: the prompt's tokens (system prompt + cluster) get label -100."""

from __future__ import annotations

from pathlib import Path

import torch

from lm_mixup_train.config import LMMixupSFTConfig, load_config
from lm_mixup_train.trainers import sft_trainer


def test_labels_mask_the_prompt_and_keep_the_completion(tmp_path: Path, tiny_model_dir: Path,
                                                        mixture_dir: Path) -> None:
    config = load_config(LMMixupSFTConfig, {
        "model_name_or_path": str(tiny_model_dir), "dataset": str(mixture_dir), "output_dir": str(tmp_path),
        "use_cpu": True, "bf16": False, "report_to": "none", "max_length": 1024,
    })
    assert config.completion_only_loss is True
    trainer, _ = sft_trainer(config)
    for example in trainer.train_dataset.select(range(3)):
        batch = trainer.data_collator([example])
        ids, labels = batch["input_ids"][0], batch["labels"][0]
        learned = labels != -100
        start = int(learned.nonzero()[0])  # the prompt is a masked prefix, the completion is learned
        assert 0 < start < len(ids)
        assert not bool(learned[:start].any()) and bool(learned[start:].all())
        assert torch.equal(labels[start:], ids[start:])
        text = trainer.processing_class.decode(ids[start:])
        assert text.lstrip().startswith("<think>") and "</answer>" in text
        assert trainer.processing_class.decode(ids[:start]).rstrip().endswith("<|im_start|>assistant")
