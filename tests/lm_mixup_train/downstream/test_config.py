"""The presets load and validate (the GPU model is named, not downloaded); bad configs are one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from lm_mixup_train.downstream.config import DownstreamConfig
from mixture_builder.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[3] / "configs"


def test_gpu_preset_is_the_reference_recipe() -> None:
    cfg = DownstreamConfig.from_yaml(CONFIGS / "ab_gpu.yaml")
    assert cfg.base_model == "meta-llama/Llama-3.1-8B"
    assert (cfg.lora.r, cfg.lora.alpha, cfg.lora.dropout) == (64, 16, 0.1)
    t = cfg.training
    assert (t.learning_rate, t.num_train_epochs, t.max_length, t.warmup_ratio, t.seed) == (1e-4, 5, 2048, 0.03, 42)
    assert {t.name for t in cfg.tasks} >= {"mmlu", "gsm8k", "bbh", "truthfulqa_mc1", "truthfulqa_mc2", "tydiqa"}
    assert cfg.backend in ("hf", "vllm") and cfg.reference_name == "distilled"


def test_cpu_preset_loads() -> None:
    cfg = DownstreamConfig.from_yaml(CONFIGS / "ab_cpu.yaml")
    assert cfg.base_model == "embedded" and len(cfg.candidates) >= 3
    assert {"gsm8k", "heldout_nll"} <= {t.name for t in cfg.tasks}


@pytest.mark.parametrize(("change", "message"), [
    ({"colour": 1}, "field 'colour': unknown option"),
    ({"reference": "nope"}, "reference 'nope' is not a candidate"),
    ({"backend": "tgi"}, "unknown backend"),
    ({"lora": {"rank": 4}}, "field 'lora.rank': unknown option"),
    ({"tasks": [{"name": "gsm8k", "limit": 0}]}, "invalid limit"),
    ({"candidates": [{"name": "a b", "path": "x"}]}, "invalid candidate name"),
])
def test_bad_config_is_one_line(change: dict, message: str, tmp_path: Path) -> None:
    data = {"base_model": "m", "candidates": [{"name": "a", "path": "x"}], "tasks": ["gsm8k"], **change}
    with pytest.raises(ConfigError) as info:
        DownstreamConfig.from_mapping(data, source="ab.yaml")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_cli_registers_downstream_and_dry_runs() -> None:
    import typer
    from typer.testing import CliRunner

    from lm_mixup_train.downstream.cli import register

    group = typer.Typer()
    register(group)
    group.command("noop")(lambda: None)  # a second command keeps `downstream` a named subcommand
    result = CliRunner().invoke(group, ["downstream", "--config", str(CONFIGS / "ab_gpu.yaml"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert '"base_model": "meta-llama/Llama-3.1-8B"' in result.output
