"""A few SFT and GRPO steps on the embedded SmolLM2-135M-Instruct (converted from its GGUF once)."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from mixture_builder.cli import app

pytestmark = pytest.mark.slow

COMMON = {"use_cpu": True, "bf16": False, "gradient_checkpointing": False, "report_to": "none",
          "disable_tqdm": True, "logging_steps": 1, "save_strategy": "no"}


def test_sft_and_grpo_on_embedded_smollm2(tmp_path, mixture_dir, quality_library_path):
    from mixture_builder.teacher.embedded import embedded_model_dir

    embedded_model_dir()  # converted and cached once (~20 s the first time)
    sft = tmp_path / "sft.yaml"
    sft.write_text(yaml.safe_dump({**COMMON, "model_name_or_path": "embedded", "dataset": str(mixture_dir),
                                   "output_dir": str(tmp_path / "sft"), "max_steps": 2,
                                   "per_device_train_batch_size": 2, "max_length": 1024, "learning_rate": 2e-5}))
    result = CliRunner().invoke(app, ["train", "sft", "--config", str(sft)])
    assert result.exit_code == 0, result.exception
    state = json.loads((tmp_path / "sft" / "final" / "trainer_state.json").read_text())
    assert state["global_step"] == 2 and any("loss" in e for e in state["log_history"])

    grpo = tmp_path / "grpo.yaml"
    grpo.write_text(yaml.safe_dump({**COMMON, "model_name_or_path": str(tmp_path / "sft" / "final"),
                                    "dataset": str(mixture_dir), "output_dir": str(tmp_path / "grpo"),
                                    "max_steps": 1, "num_generations": 2, "per_device_train_batch_size": 2,
                                    "max_completion_length": 24, "max_prompt_length": 1024, "learning_rate": 1e-6,
                                    "quality_library": str(quality_library_path)}))
    result = CliRunner().invoke(app, ["train", "grpo", "--config", str(grpo)])
    assert result.exit_code == 0, result.exception
    state = json.loads((tmp_path / "grpo" / "final" / "trainer_state.json").read_text())
    entry = next(e for e in state["log_history"] if "reward" in e)
    for name in ("format_reward", "alignment_reward", "quality_reward"):
        assert f"rewards/{name}/mean" in entry
