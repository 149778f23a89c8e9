"""Model cards: base model, data, configs, reward weights and training curves from trainer_state.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from huggingface_hub import ModelCard, ModelCardData
from huggingface_hub.repocard import metadata_load

from dataset_cards.model_card import ModelCardInfo, curve_series, find_trainer_state, write_model_card
from mixture_builder.errors import ConfigError


def _trainer_state(steps: int) -> dict:
    history = []
    for step in range(1, steps + 1):
        history.append(
            {
                "loss": 2.0 / step,
                "grad_norm": 1.0,
                "learning_rate": 1e-6 * (1 - step / steps),
                "epoch": step / steps,
                "reward": 0.1 * step,
                "reward_std": 0.05,
                "rewards/format_reward/mean": 0.05 * step,
                "rewards/format_reward/std": 0.01,
                "rewards/alignment_reward/mean": 0.02 * step,
                "kl": 0.001 * step,
                "completions/mean_length": 100.0 + step,
                "step": step,
            }
        )
    history.append({"eval_loss": 0.7, "step": steps})
    history.append({"train_runtime": 3.5, "train_loss": 0.8, "step": steps})
    return {"global_step": steps, "log_history": history}


def _info(**overrides) -> ModelCardInfo:
    values: dict = dict(  # noqa: C408 (keyword style mirrors the dataclass call)
        base_model="Qwen/Qwen2.5-1.5B-Instruct",
        stage="grpo",
        dataset_repo="org/mixture",
        dataset_revision="abc1234",
        dataset_config="grpo",
        training_config={"learning_rate": 1e-6, "num_generations": 4, "hub_token": "hf_LEAK"},
        reward_weights={"quality": 0.5, "alignment": 0.4, "format": 0.1},
        license="apache-2.0",
    )
    values.update(overrides)
    return ModelCardInfo(**values)


def test_curves_from_the_newest_checkpoint_trainer_state(tmp_path: Path) -> None:
    for step in (2, 10):
        (tmp_path / f"checkpoint-{step}").mkdir()
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps(_trainer_state(step)))
    assert find_trainer_state(tmp_path) == tmp_path / "checkpoint-10" / "trainer_state.json"
    path = write_model_card(tmp_path, _info())
    card = ModelCard.load(path)
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", card.text)
    assert set(images) == {
        f"figures/{n}.png" for n in ("loss", "rewards", "learning_rate", "kl_entropy", "completion_length")
    }
    for image in images:
        assert (tmp_path / image).read_bytes().startswith(b"\x89PNG")
    assert "From 12 log entries" in card.text  # checkpoint-10: 10 steps + eval + summary


def test_curve_series_groups_rewards_per_component() -> None:
    series = curve_series(_trainer_state(4)["log_history"])
    assert set(series["rewards"]) == {"reward", "rewards/format_reward/mean", "rewards/alignment_reward/mean"}
    assert series["loss"]["loss"] == [(1, 2.0), (2, 1.0), (3, 2.0 / 3), (4, 0.5)]
    assert series["loss"]["eval_loss"] == [(4, 0.7)]


def test_model_card_metadata_and_body(tmp_path: Path) -> None:
    (tmp_path / "trainer_state.json").write_text(json.dumps(_trainer_state(3)))
    path = write_model_card(tmp_path, _info())
    metadata = metadata_load(path)
    assert ModelCard.load(path).data.to_dict() == ModelCardData(**metadata).to_dict()
    assert metadata["base_model"] == "Qwen/Qwen2.5-1.5B-Instruct" and metadata["datasets"] == ["org/mixture"]
    assert metadata["license"] == "apache-2.0" and metadata["pipeline_tag"] == "text-generation"
    assert {"lm-mixup", "grpo", "trl"} <= set(metadata["tags"])
    text = path.read_text()
    assert 'load_dataset("org/mixture", "grpo", revision="abc1234")' in text
    assert "| quality | 0.5 |" in text and "| `num_generations` | `4` |" in text
    assert "hf_LEAK" not in text and "hub_token" not in text
    assert "@article{lmmixup2025" in text


def test_model_card_validates_against_the_local_hub(tmp_path: Path) -> None:
    testing = pytest.importorskip("hub.testing", reason="the hub package's local server is not available")
    card = ModelCard.load(write_model_card(tmp_path, _info(stage="sft")))
    with testing.local_hub(tmp_path / "hub"):
        card.validate()  # raises ValueError when the Hub rejects the YAML
        card.data.license = "apache 2"
        with pytest.raises(ValueError, match="'apache 2' is not a Hub license id"):
            card.validate()


def test_without_logs_and_with_a_local_base_model(tmp_path: Path) -> None:
    text = write_model_card(
        tmp_path, _info(base_model="/models/tiny", dataset_repo="./data", stage="sft")
    ).read_text()
    metadata = metadata_load(tmp_path / "README.md")
    assert "base_model" not in metadata and "datasets" not in metadata  # only Hub ids go in the YAML
    assert "Base model: `/models/tiny`" in text and "No training logs" in text


def test_bad_stage_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown training stage 'dpo'"):
        ModelCardInfo(base_model="x", stage="dpo")
