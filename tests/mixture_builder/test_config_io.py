"""The one config loader: every config class, nested keys, values and help text."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest
import yaml

from lm_mixup_train.config import LMMixupGRPOConfig, LMMixupSFTConfig
from lm_mixup_train.downstream.config import DownstreamConfig
from lm_mixup_train.evaluate.config import EvalConfig
from mixture_builder.clustering.capacity import CapacityConfig
from mixture_builder.config_io import load_config
from mixture_builder.distill.config import DistillConfig
from mixture_builder.errors import ConfigError
from mixture_builder.generate.config import BuildConfig
from mixture_builder.select.config import SelectConfig
from mixture_builder.teacher.config import TeacherConfig

TRAIN = {"model_name_or_path": "m", "dataset": "d", "use_cpu": True}

UNKNOWN_NESTED = [
    (BuildConfig, {"clusters": {"meen": 5}}, "clusters.meen", "mean"),
    (BuildConfig, {"sources": [{"path": "x", "glob_patern": "*"}]}, "sources[0].glob_patern", "glob_pattern"),
    (BuildConfig, {"rater": {"backend": "embedded", "max_concurency": 2}}, "rater.max_concurency", "max_concurrency"),
    (DistillConfig, {"distiller": {"teacher": {"modle": "x"}}}, "distiller.teacher.modle", "model"),
    (DistillConfig, {"clustering": {"capacity": {"min_sise": 3}}}, "clustering.capacity.min_sise", "min_size"),
    (DistillConfig, {"pools": [{"path": "p", "limt": 3}]}, "pools[0].limt", "limit"),
    (SelectConfig, {"selection": {"methds": ["random"]}}, "selection.methds", "methods"),
    (SelectConfig, {"scoring": {"rater": {"max_retrys": 2}}}, "scoring.rater.max_retrys", "max_retries"),
    (EvalConfig, {"dataset": "d", "distiller": {"teacher": {"modle": "m"}}}, "distiller.teacher.modle", "model"),
    (DownstreamConfig, {"base_model": "m", "candidates": [{"name": "a", "path": "p"}], "tasks": ["gsm8k"],
                        "lora": {"alpah": 8}}, "lora.alpah", "alpha"),
    (DownstreamConfig, {"base_model": "m", "candidates": [{"name": "a", "path": "p", "max_row": 3}],
                        "tasks": ["gsm8k"]}, "candidates[0].max_row", "max_rows"),
    (TeacherConfig, {"temprature": 0.1}, "temprature", "temperature"),
    (CapacityConfig, {"min_sise": 3}, "min_sise", "min_size"),
    (LMMixupSFTConfig, {**TRAIN, "learning_rat": 1e-5}, "learning_rat", "learning_rate"),
    (LMMixupGRPOConfig, {**TRAIN, "quality_reward": "none", "alignment_wieght": 1}, "alignment_wieght",
     "alignment_weight"),
]


@pytest.mark.parametrize(("cls", "data", "path", "suggestion"), UNKNOWN_NESTED)
def test_unknown_key_names_its_path_and_the_closest_key(tmp_path: Path, cls, data, path, suggestion) -> None:
    file = tmp_path / "cfg.yaml"
    file.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_config(cls, file)
    message = str(info.value)
    assert f"cfg.yaml, field '{path}': unknown option — did you mean '{suggestion}'?" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("cls", "data", "path", "problem"),
    [
        (DistillConfig, {"merge": {"ratio": 2}}, "merge.ratio", "within (0, 1]"),
        (DistillConfig, {"distiller": {"teacher": {"backend": "gpt"}}}, "distiller.teacher.backend", "unknown backend"),
        (DistillConfig, {"pools": [{"path": "p", "limit": "many"}]}, "pools[0].limit", "expected a number"),
        (BuildConfig, {"executor": {"tasks": 0}}, "executor.tasks", "must be >= 1"),
        (BuildConfig, {"cross_topic": "yes"}, "cross_topic", "expected true/false"),
        (LMMixupGRPOConfig, {**TRAIN, "quality_reward": "bert"}, "quality_reward", "unknown value"),
    ],
)
def test_bad_values_name_their_full_path(cls, data, path, problem) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(cls, data)
    assert f"field '{path}': " in str(info.value) and problem in str(info.value)


def test_values_are_converted_by_their_type_hints() -> None:
    config = load_config(DistillConfig, {"pools": ["a.jsonl", {"path": "b.jsonl", "limit": 3.0}],
                                         "merge": {"ratio": "0.5"}})
    assert [p.path for p in config.pools] == ["a.jsonl", "b.jsonl"] and config.pools[1].limit == 3
    assert config.merge.ratio == 0.5
    build = load_config(BuildConfig, {"inline_reasoning": ["qa"], "sources": "corpus/"})
    assert build.inline_reasoning == ["qa"] and build.sources[0].path == "corpus/"
    assert load_config(BuildConfig, {"inline_reasoning": False}).inline_reasoning is False
    assert load_config(LMMixupSFTConfig, TRAIN, {"learning_rate": "2e-5"}).learning_rate == 2e-5


@pytest.mark.parametrize("cls", [BuildConfig, DistillConfig, SelectConfig, TeacherConfig, CapacityConfig])
def test_every_project_field_has_help_text(cls) -> None:
    def walk(kind: type) -> tuple[list[str], int]:
        missing, nested = [], 0
        hints = typing.get_type_hints(kind)
        for f in dataclasses.fields(kind):
            if not f.metadata.get("help"):
                missing.append(f"{kind.__name__}.{f.name}")
            inner = [hints[f.name], *typing.get_args(hints[f.name])]
            for hint in inner:
                if dataclasses.is_dataclass(hint):
                    sub_missing, sub_nested = walk(hint)
                    missing, nested = missing + sub_missing, nested + 1 + sub_nested
        return missing, nested

    missing, nested = walk(cls)
    assert missing == []
    assert nested >= (3 if cls in (BuildConfig, DistillConfig, SelectConfig) else 0)
