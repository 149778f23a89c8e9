"""Trainer configs: YAML loading, clear errors, the presets shipped in configs/."""

from __future__ import annotations

from pathlib import Path

import pytest

from lm_mixup_train.cli import parse_overrides
from lm_mixup_train.config import LMMixupGRPOConfig, LMMixupSFTConfig, load_config
from mixture_builder.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
BASE = {"model_name_or_path": "m", "dataset": "d", "use_cpu": True, "bf16": False, "report_to": "none"}


@pytest.mark.parametrize(
    "name,cls", [("train_sft_cpu", LMMixupSFTConfig), ("train_grpo_cpu", LMMixupGRPOConfig),
                 ("train_sft_gpu", LMMixupSFTConfig), ("train_grpo_gpu", LMMixupGRPOConfig)],
)
def test_presets_load(name: str, cls: type) -> None:
    # The GPU presets ask for bf16 on CUDA; on this CPU-only machine they load with use_cpu.
    config = load_config(cls, CONFIGS / f"{name}.yaml", {"use_cpu": True} if "gpu" in name else None)
    assert config.model_name_or_path and config.dataset
    if cls is LMMixupGRPOConfig:
        assert config.reward_weights == [0.1, 0.4, 0.5]  # format, alignment, quality
        assert config.quality_k == 16 and config.alignment_threshold == 0.8


def test_gpu_presets_hold_the_paper_values() -> None:
    sft = load_config(LMMixupSFTConfig, CONFIGS / "train_sft_gpu.yaml", {"use_cpu": True})
    assert (sft.learning_rate, sft.num_train_epochs, sft.max_length) == (2e-5, 3, 2400)
    assert (sft.warmup_steps, sft.weight_decay, sft.bf16) == (0.05, 0.01, True)
    grpo = load_config(LMMixupGRPOConfig, CONFIGS / "train_grpo_gpu.yaml", {"use_cpu": True})
    assert (grpo.num_generations, grpo.temperature, grpo.beta, grpo.learning_rate) == (4, 1.0, 0.01, 1e-6)
    assert (grpo.max_prompt_length, grpo.max_completion_length, grpo.num_train_epochs) == (2400, 2400, 1)
    assert grpo.generation_batch_size == 128 * 4 and grpo.use_vllm
    assert grpo.embedding_model == "BAAI/bge-m3"


def test_unknown_key_names_file_key_and_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("model_name_or_path: m\ndataset: d\nlearning_rat: 1e-5\n")
    with pytest.raises(ConfigError, match=r"c\.yaml, field 'learning_rat': unknown option — did you mean 'learning_rate'"):
        load_config(LMMixupSFTConfig, path)


def test_yaml_errors_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("- a list\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(LMMixupSFTConfig, path)
    path.write_text("a: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML") as info:
        load_config(LMMixupSFTConfig, path)
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="file not found"):
        load_config(LMMixupSFTConfig, tmp_path / "missing.yaml")


def test_field_validation() -> None:
    with pytest.raises(ConfigError, match="'dataset': missing"):
        load_config(LMMixupSFTConfig, None, {"model_name_or_path": "m", "use_cpu": True})
    grpo = {**BASE, "num_generations": 2, "per_device_train_batch_size": 2}
    with pytest.raises(ConfigError, match="quality_library"):
        load_config(LMMixupGRPOConfig, None, grpo)
    with pytest.raises(ConfigError, match="quality_reward"):
        load_config(LMMixupGRPOConfig, None, {**grpo, "quality_reward": "bert"})
    with pytest.raises(ConfigError, match="reward_weights.*quality_weight"):
        load_config(LMMixupGRPOConfig, None, {**grpo, "quality_reward": "none", "reward_weights": [1, 1]})
    # TRL's own checks surface as one ConfigError line naming the config
    with pytest.raises(ConfigError, match="divisible by num_generations"):
        load_config(LMMixupGRPOConfig, None, {**grpo, "quality_reward": "none", "num_generations": 3})


def test_weights_follow_the_reward_set_and_strings_coerce() -> None:
    grpo = {**BASE, "num_generations": 2, "per_device_train_batch_size": 2, "quality_reward": "none"}
    config = load_config(LMMixupGRPOConfig, None, {**grpo, "format_weight": "0.3", "learning_rate": "1e-6"})
    assert config.reward_weights == [0.3, 0.4] and config.learning_rate == 1e-6


def test_cli_overrides() -> None:
    assert parse_overrides(["max_steps=3", "use_vllm=true", "dataset=org/x"], push_to=None, x=1) == {
        "max_steps": 3, "use_vllm": True, "dataset": "org/x", "x": 1}
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["oops"])


def test_embedding_device_is_configurable_and_resolved(monkeypatch) -> None:
    import torch

    from lm_mixup_train import embedding
    from lm_mixup_train.rewards import build_reward_functions

    grpo = {**BASE, "num_generations": 2, "per_device_train_batch_size": 2, "quality_reward": "none"}
    assert load_config(LMMixupGRPOConfig, None, grpo).embedding_device is None
    config = load_config(LMMixupGRPOConfig, None, {**grpo, "embedding_device": "cuda:1"})
    alignment = build_reward_functions(config)[1]
    assert alignment.__name__ == "alignment_reward" and alignment.device == "cuda:1"
    assert build_reward_functions(load_config(LMMixupGRPOConfig, None, grpo))[1].device == "cpu"  # use_cpu run
    with pytest.raises(ConfigError, match="embedding_device"):
        load_config(LMMixupGRPOConfig, None, {**grpo, "embedding_device": "gpu0"})
    gpu = load_config(LMMixupGRPOConfig, CONFIGS / "train_grpo_gpu.yaml", {"use_cpu": True})
    assert gpu.embedding_device is None  # documented in the preset, resolved per process

    assert embedding.resolve_device("cpu") == "cpu" and embedding.resolve_device("cuda:3") == "cuda:3"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert embedding.resolve_device(None) == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("LOCAL_RANK", "5")
    assert embedding.resolve_device(None) == "cuda:5"
    monkeypatch.delenv("LOCAL_RANK")
    assert embedding.resolve_device(None) == "cuda:0"


def test_rewards_embed_on_the_configured_device(monkeypatch) -> None:
    import numpy as np

    from lm_mixup_train import embedding
    from lm_mixup_train.rewards import AlignmentReward

    seen: list[str | None] = []

    def fake_model(texts, model_name, batch_size, device):
        seen.append(device)
        return np.ones((len(texts), 2), dtype=np.float32) / np.sqrt(2)

    monkeypatch.setattr(embedding, "_embed_unique", fake_model)
    monkeypatch.setattr(embedding, "_CACHE", type(embedding._CACHE)())
    AlignmentReward(device="cpu").similarities(["a"], ["b"])
    assert seen == ["cpu"]
