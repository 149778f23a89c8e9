from pathlib import Path

import pytest

from mixture_builder.errors import ConfigError
from mixture_builder.generate.config import DEMO_SOURCE, BuildConfig, demo_corpus_path
from mixture_builder.generate.run import demo_config, load_config
from mixture_builder.mixture_format import TASKS

CONFIGS = Path(__file__).resolve().parents[3] / "configs"


def test_defaults_are_the_paper_and_the_demo_corpus():
    config = BuildConfig()
    assert config.tasks == list(TASKS)
    assert (config.quality_threshold, config.sft_fraction, config.test_fraction, config.seed) == (4, 0.3, 0.1, 42)
    assert (config.clusters.min_size, config.clusters.max_size) == (2, 20)
    assert config.sources[0].path == DEMO_SOURCE and config.sources[0].resolved_path == demo_corpus_path()
    assert config.teacher.backend == "embedded" and config.rater_config is config.teacher
    assert all(text for text in BuildConfig.help().values())  # every option documented


@pytest.mark.parametrize("name", ["build_demo", "build_openai", "build_slurm_vllm"])
def test_example_configs_load(name):
    config = BuildConfig.from_yaml(CONFIGS / f"{name}.yaml")
    assert config.sources


def test_demo_yaml_is_the_builtin_demo():
    assert BuildConfig.from_yaml(CONFIGS / "build_demo.yaml") == demo_config()
    assert load_config(None) == demo_config()


def test_demo_corpus_is_packaged_and_varied():
    import json

    rows = [json.loads(line) for line in demo_corpus_path().read_text().splitlines()]
    assert 12 <= len(rows) <= 20
    assert len({row["id"] for row in rows}) == len(rows)
    assert all(60 <= len(row["text"].split()) <= 160 for row in rows)
    assert (demo_corpus_path().parent / "SOURCE.md").read_text().count("Apache-2.0")


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("tasks: [qa, essay]", "field 'tasks'"),
        ("teacher_variant: 2", "field 'teacher_variant': unknown option — did you mean 'teacher_variants'"),
        ("clusters: {min_size: 1}", "2 <= min_size"),
        ("clusters: {mean: 5, sizes: 3}", "field 'clusters.sizes': unknown option"),
        ("executor: {kind: slurm}", "needs a partition"),
        ("executor: {stages: {embed: {gpus_per_task: 1}}}", "field 'executor.stages.embed': unknown stage"),
        ("executor: {gpus_per_task: -1}", "field 'executor.gpus_per_task': gpus_per_task must be >= 0"),
        ("sources: [{path: x, limt: 3}]", "sources[0].limt"),
        ("teacher: {backend: openai}", "needs a base_url"),
        ("quality_threshold: 7", "quality_threshold"),
        ("sources: [3]", "field 'sources[0]': expected a mapping"),
        ("- a list", "mapping at the top level"),
        ("task_weights: {essay: 2}", "task_weights"),
    ],
)
def test_bad_yaml_gives_one_clear_line(tmp_path, yaml_text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as info:
        BuildConfig.from_yaml(path)
    text = str(info.value)
    assert message in text and "\n" not in text
    assert str(path) in text


def test_cli_overrides(tmp_path):
    config = load_config(CONFIGS / "build_openai.yaml", output=tmp_path / "o", push="me/mix", no_cache=True, limit=5)
    assert config.output == str(tmp_path / "o") and config.push_to == "me/mix"
    assert config.teacher.use_cache is False and all(src.limit == 5 for src in config.sources)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_an_output_folder_resumes_only_its_own_config(tmp_path):
    import dataclasses

    from mixture_builder.generate.pipeline import check_work_dir

    config = BuildConfig(output=str(tmp_path / "out"))
    check_work_dir(config)
    check_work_dir(dataclasses.replace(config, push_to="me/mix", executor=dataclasses.replace(config.executor,
                                                                                               workers=2)))
    with pytest.raises(ConfigError, match=r"other settings \(changed: seed\)"):
        check_work_dir(dataclasses.replace(config, seed=1))


def test_resuming_with_other_sharding_is_refused_but_request_knobs_are_free(tmp_path):
    import dataclasses

    from mixture_builder.generate.pipeline import check_work_dir

    config = BuildConfig(output=str(tmp_path / "out"))
    check_work_dir(config)
    executor = dataclasses.replace(config.executor, workers=4, time="01:00:00", partition="cpu")
    teacher = dataclasses.replace(config.teacher, max_concurrency=3, timeout_s=5.0, api_key_env="OTHER_KEY")
    check_work_dir(dataclasses.replace(config, executor=executor, teacher=teacher))
    with pytest.raises(ConfigError, match=r"changed: executor_tasks\)"):
        check_work_dir(dataclasses.replace(config, executor=dataclasses.replace(config.executor, tasks=3)))
