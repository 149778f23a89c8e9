"""DistillConfig: defaults, YAML loading, validation errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from mixture_builder.distill.config import DistillConfig, demo_config, demo_pool_path
from mixture_builder.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[3] / "configs"


def test_defaults_are_the_paper_and_the_embedded_demo():
    cfg = DistillConfig()
    assert cfg.clustering.capacity.min_size == 2 and cfg.clustering.capacity.max_size == 25
    assert cfg.clustering.capacity.mean == 10.0 and cfg.clustering.capacity.std == 3.0
    assert cfg.scoring.threshold == 4 and cfg.merge.long_tail_k == 15
    assert cfg.distiller.teacher.backend == "embedded" and cfg.distiller.temperature == 0.0
    assert Path(cfg.pools[0].path) == demo_pool_path()
    assert demo_config().distiller.teacher.backend == "embedded"


def test_every_field_has_help_text():
    import dataclasses

    from mixture_builder.distill import config as module

    for cls in (module.DistillConfig, module.PoolConfig, module.ScoringConfig, module.ClusteringConfig,
                module.DistillerConfig, module.MergeConfig, module.DecontConfig, module.DedupConfig):
        for f in dataclasses.fields(cls):
            assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help"


def test_yaml_nested_sections_and_relative_paths(tmp_path: Path):
    (tmp_path / "pool.json").write_text("[]")
    path = tmp_path / "c.yaml"
    path.write_text(
        "pools: [pool.json]\n"
        "clustering: {capacity: {mean: 5, std: 1, max_size: 9}}\n"
        "merge: {top_n: 10, ratio: 0.5}\n"
        "distiller: {teacher: {backend: openai, base_url: 'http://127.0.0.1:1/v1', model: m}}\n"
    )
    cfg = DistillConfig.from_yaml(path)
    assert cfg.pools[0].path == str(tmp_path / "pool.json")
    assert cfg.clustering.capacity.mean == 5.0 and cfg.clustering.capacity.max_size == 9
    assert cfg.merge.top_n == 10 and cfg.distiller.teacher.backend == "openai"


@pytest.mark.parametrize(
    ("yaml_text", "needle"),
    [
        ("merge: {topn: 3}", "merge.topn"),
        ("scoring: {threshold: 7}", "scoring.threshold"),
        ("report: maybe", "report"),
        ("distiller: {teacher: {backend: nope}}", "backend"),
        ("distiller: {engine: tgi}", "distiller.engine"),
        ("merge: {ratio: 1.5}", "merge.ratio"),
        ("clustering: {embedding_device: gpu}", "clustering.embedding_device': unknown device 'gpu'"),
        ("executor: {stages: {embed: {cpus_per_task: 0}}}", "executor.stages.embed.cpus_per_task"),
        ("bogus: 1", "bogus"),
    ],
)
def test_bad_yaml_names_the_field(tmp_path: Path, yaml_text: str, needle: str):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as error:
        DistillConfig.from_yaml(path)
    assert needle in str(error.value) and str(path) in str(error.value)


@pytest.mark.parametrize("name", ["distill_demo.yaml", "distill_openai.yaml", "distill_checkpoint.yaml"])
def test_shipped_configs_load(name: str):
    cfg = DistillConfig.from_yaml(CONFIGS / name)
    assert cfg.pools
