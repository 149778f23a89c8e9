"""TeacherConfig validation and YAML loading."""

from __future__ import annotations

import pytest

from mixture_builder.errors import ConfigError
from mixture_builder.teacher.config import TeacherConfig


def test_defaults_are_the_embedded_teacher(tmp_path, monkeypatch):
    monkeypatch.setenv("LM_MIXUP_CACHE", str(tmp_path))
    config = TeacherConfig()
    assert config.backend == "embedded" and config.model_id == "SmolLM2-135M-Instruct"
    assert config.resolved_cache_path == tmp_path / "teacher_cache.sqlite"
    assert all(TeacherConfig.help().values())
    assert TeacherConfig(embedded_dtype="bfloat16").model_id == "SmolLM2-135M-Instruct-bf16"


@pytest.mark.parametrize("options, field", [
    ({"backend": "gpt"}, "field \'backend\'"),
    ({"backend": "openai"}, "field \'base_url\'"),
    ({"max_concurrency": 0}, "field \'max_concurrency\'"),
    ({"timeout_s": 0}, "field \'timeout_s\'"),
    ({"requests_per_minute": -1}, "field \'requests_per_minute\'"),
    ({"prices": {"in": 1}}, "field \'prices\'"),
    ({"client": "curl"}, "field \'client\'"),
    ({"response_format": "xml"}, "field \'response_format\'"),
])
def test_invalid_values_name_the_field(options, field):
    with pytest.raises(ConfigError, match=field):
        TeacherConfig(**options)


def test_yaml_section_and_unknown_keys(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("teacher:\n  backend: openai\n  base_url: http://h:8000/v1\n  model: m\n"
                    "  prices: {input: 0.15, output: 0.6}\nother: 1\n")
    config = TeacherConfig.from_yaml(path)
    assert (config.backend, config.model, config.prices["output"]) == ("openai", "m", 0.6)
    path.write_text("teacher:\n  backend: openai\n  base_url: http://h/v1\n  temprature: 0.2\n")
    with pytest.raises(ConfigError, match="field 'teacher.temprature': unknown option — did you mean 'temperature'") as info:
        TeacherConfig.from_yaml(path)
    assert "run.yaml" in str(info.value)


def test_failed_requests_go_next_to_the_cache_by_default(tmp_path):
    config = TeacherConfig(cache_path=str(tmp_path / "c" / "cache.sqlite"))
    assert config.resolved_failed_path == tmp_path / "c" / "failed_requests.jsonl"
    assert TeacherConfig(failed_path="x.jsonl").resolved_failed_path.name == "x.jsonl"
