"""`lm-mixup card DIR [--kind]` regenerates a dataset or model card from a built folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from huggingface_hub.repocard import metadata_load
from typer.testing import CliRunner

from dataset_cards.layout import write_dataset_folder
from mixture_builder.cli import app
from tests.dataset_cards._fixtures_cards import mixture_tables


def test_card_command_for_a_dataset_folder(tmp_path: Path) -> None:
    folder = tmp_path / "mixture-demo"
    write_dataset_folder(folder, mixture_tables(20, 30), default_config="sft")
    (folder / "stats.json").write_text(
        json.dumps({"pipeline": "mixture", "stages": {"read": {"in": 5, "out": 5}}})
    )
    result = CliRunner().invoke(app, ["card", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(folder / "README.md")
    metadata = metadata_load(folder / "README.md")
    assert metadata["pretty_name"] == "mixture-demo" and metadata["configs"][0]["config_name"] == "sft"
    assert (folder / "figures" / "quality.png").is_file()


def test_card_command_for_a_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "training_info.json").write_text(
        json.dumps({"base_model": "org/base", "stage": "sft", "x": 1})
    )
    (tmp_path / "trainer_state.json").write_text(json.dumps({"log_history": [{"loss": 1.0, "step": 1}]}))
    result = CliRunner().invoke(app, ["card", str(tmp_path), "--kind", "auto"])
    assert result.exit_code == 0, result.output
    assert metadata_load(tmp_path / "README.md")["base_model"] == "org/base"
    assert (tmp_path / "figures" / "loss.png").is_file()


def test_card_command_errors_are_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mixture_builder.cli", "card", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert str(tmp_path) in proc.stderr and "use --kind" in proc.stderr


def test_regenerated_cards_match_the_written_ones(tmp_path: Path) -> None:
    from dataset_cards.dataset_card import DatasetCardInfo, write_dataset_card
    from dataset_cards.model_card import ModelCardInfo, write_model_card
    from dataset_cards.regenerate import regenerate_card

    data = tmp_path / "data"
    write_dataset_folder(data, mixture_tables(20, 30), default_config="sft")
    info = DatasetCardInfo(
        pretty_name="Round trip",
        stages={"read": {"in": 3, "out": 2, "dropped": {"bad": 1}}},
        templates={"write_qa": "3"},
        teacher="t",
        parameters={"seed": 1, "api_key": "sk-no"},
        extra_markdown="## Extra\n\nkept",
    )
    first = write_dataset_card(data, info).read_text()
    assert "sk-no" not in (data / "stats.json").read_text()
    assert regenerate_card(data).read_text() == first

    model = tmp_path / "model"
    model.mkdir()
    (model / "trainer_state.json").write_text(json.dumps({"log_history": [{"loss": 1.0, "step": 1}]}))
    minfo = ModelCardInfo(base_model="org/base", stage="grpo", reward_weights={"quality": 0.5},
                          training_config={"hub_token": "hf_no", "lr": 1e-6})  # fmt: skip
    first = write_model_card(model, minfo).read_text()
    assert "hf_no" not in (model / "training_info.json").read_text()
    assert regenerate_card(model, kind="model").read_text() == first
