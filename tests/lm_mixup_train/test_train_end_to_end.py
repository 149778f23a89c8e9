"""`lm-mixup train sft` then `train grpo` on CPU with the tiny model: weights change, each reward component is
logged, the final model loads with from_pretrained, runs resume, and the checkpoint is pushed with a model card
to the local Hub server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from hub.testing import local_hub_endpoint  # noqa: F401  (fixture)
from mixture_builder.cli import app
from tests._cli import run_cli

REWARDS = ("format_reward", "alignment_reward", "quality_reward")
COMMON = {"use_cpu": True, "bf16": False, "gradient_checkpointing": False, "report_to": "none",
          "disable_tqdm": True, "seed": 0}


def weights(folder: Path) -> dict[str, torch.Tensor]:
    from transformers import AutoModelForCausalLM

    return {k: v.clone() for k, v in AutoModelForCausalLM.from_pretrained(folder).state_dict().items()}


def changed(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> int:
    return sum(not torch.equal(before[k], after[k]) for k in before)


def write_yaml(path: Path, values: dict) -> Path:
    path.write_text(yaml.safe_dump(values))
    return path


def test_sft_then_grpo_then_push(tmp_path, tiny_model_dir, mixture_dir, quality_library_path, local_hub_endpoint):  # noqa: F811
    from huggingface_hub import HfApi, hf_hub_download

    sft_yaml = write_yaml(tmp_path / "sft.yaml", {
        **COMMON, "model_name_or_path": str(tiny_model_dir), "dataset": str(mixture_dir),
        "output_dir": str(tmp_path / "sft"), "max_steps": 60, "learning_rate": 3e-3,
        "lr_scheduler_type": "constant", "per_device_train_batch_size": 4, "max_length": 1024,
        "logging_steps": 10, "save_steps": 50, "eval_split": "test", "eval_strategy": "no",
    })
    out = run_cli("train", "sft", "--config", str(sft_yaml), "--push-to", "test-org/lm-mixup-sft")
    sft_final = tmp_path / "sft" / "final"
    assert str(sft_final) in out
    assert changed(weights(tiny_model_dir), weights(sft_final)) > 10  # (nearly) every tensor moved
    summary = json.loads((sft_final / "lm_mixup_training.json").read_text())
    assert summary["stage"] == "sft" and summary["data"]["train"] == {"kept": 16, "skipped": {}}
    assert (tmp_path / "sft" / "checkpoint-50").is_dir()

    # resume: continues from checkpoint-60 (the last one) to a higher max_steps
    run_cli("train", "sft", "--config", str(sft_yaml), "--resume", "--set", "max_steps=62")
    state = json.loads((sft_final / "trainer_state.json").read_text())
    assert state["global_step"] == 62
    assert [e["step"] for e in state["log_history"] if "loss" in e][:2] == [10, 20]  # history carried over

    api = HfApi()
    files = set(api.list_repo_files("test-org/lm-mixup-sft", repo_type="model"))
    assert {"README.md", "model.safetensors", "config.json", "lm_mixup_training.json"} <= files
    assert not any(f.startswith("checkpoint-") for f in files)
    card = Path(hf_hub_download("test-org/lm-mixup-sft", "README.md", repo_type="model")).read_text()
    assert "lm-mixup" in card and "sft" in card

    grpo_yaml = write_yaml(tmp_path / "grpo.yaml", {
        **COMMON, "model_name_or_path": str(sft_final), "dataset": str(mixture_dir),
        "output_dir": str(tmp_path / "grpo"), "max_steps": 3, "learning_rate": 1e-3,
        "num_generations": 4, "per_device_train_batch_size": 4, "max_completion_length": 48,
        "max_prompt_length": 1024, "beta": 0.01, "logging_steps": 1, "save_steps": 3,
        "quality_library": str(quality_library_path), "alignment_mode": "continuous",
    })
    run_cli("train", "grpo", "--config", str(grpo_yaml), "--push-to", "test-org/lm-mixup")
    grpo_final = tmp_path / "grpo" / "final"
    state = json.loads((grpo_final / "trainer_state.json").read_text())
    steps = [e for e in state["log_history"] if "reward" in e]
    assert len(steps) == 3
    for entry in steps:
        for name in REWARDS:
            assert f"rewards/{name}/mean" in entry and f"rewards/{name}/std" in entry
    assert any(e["reward_std"] > 0 for e in steps), "no group had reward variance: nothing to learn"
    assert changed(weights(sft_final), weights(grpo_final)) > 0
    summary = json.loads((grpo_final / "lm_mixup_training.json").read_text())
    assert summary["reward_functions"] == list(REWARDS[:2]) + ["quality_reward"]
    assert summary["reward_weights"] == [0.1, 0.4, 0.5]
    card = Path(hf_hub_download("test-org/lm-mixup", "README.md", repo_type="model")).read_text()
    assert "grpo" in card and "quality_reward" in card
    assert "figures/rewards.png" in set(api.list_repo_files("test-org/lm-mixup", repo_type="model"))


def test_check_rewards_reports_per_reward_stats(tmp_path, tiny_model_dir, mixture_dir, quality_library_path):
    grpo_yaml = write_yaml(tmp_path / "grpo.yaml", {
        **COMMON, "model_name_or_path": str(tiny_model_dir), "dataset": str(mixture_dir),
        "output_dir": str(tmp_path / "grpo"), "num_generations": 4, "per_device_train_batch_size": 4,
        "max_completion_length": 16, "quality_library": str(quality_library_path),
    })
    out = run_cli("train", "check-rewards", "--config", str(grpo_yaml), "--groups", "2")
    report = json.loads(out.strip().splitlines()[-1])
    assert report["groups"] == 2 and report["group_size"] == 4
    assert set(report["rewards"]) == {*REWARDS, "weighted_total"}
    # a random model never closes its tags within 16 tokens: every group is flat — the pre-flight says so
    assert report["format_hit_rate"] == 0.0 and report["truncation_rate"] > 0.5
    for stats in report["rewards"].values():
        assert stats["zero_variance_groups"] == 1.0 and stats["mean"] == 0.0
    assert "zero-var groups" in out


def test_resume_without_checkpoint_is_a_clear_error(tmp_path, tiny_model_dir, mixture_dir):
    sft_yaml = write_yaml(tmp_path / "sft.yaml", {**COMMON, "model_name_or_path": str(tiny_model_dir),
                                                  "dataset": str(mixture_dir), "output_dir": str(tmp_path / "o")})
    result = CliRunner().invoke(app, ["train", "sft", "--config", str(sft_yaml), "--resume"])
    assert isinstance(result.exception, ValueError) and "no checkpoint-* folder" in str(result.exception)


@pytest.mark.parametrize("kind", ["sft", "grpo"])
def test_bad_config_key_fails_before_training(tmp_path, kind):
    path = write_yaml(tmp_path / "c.yaml", {"model_name_or_path": "m", "dataset": "d", "num_epochs": 3})
    result = CliRunner().invoke(app, ["train", kind, "--config", str(path)])
    assert isinstance(result.exception, ValueError) and "field 'num_epochs': unknown option" in str(result.exception)
