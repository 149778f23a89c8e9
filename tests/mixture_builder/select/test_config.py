"""`SelectConfig`: a distill config plus `selection:`; bad sizes and method names are one-line ConfigErrors, from
Python, YAML and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mixture_builder.cli import main
from mixture_builder.errors import ConfigError
from mixture_builder.select import METHODS, SelectConfig, SelectionConfig


@pytest.mark.parametrize(("kwargs", "where", "message"), [
    ({"methods": ["rnd"], "size": 5}, "methods", "did you mean 'random'"),
    ({"methods": ["top_k"], "size": 5}, "methods", "did you mean 'top-k'"),
    ({"methods": [], "size": 5}, "methods", "no methods"),
    ({"methods": ["random", "random"], "size": 5}, "methods", "listed twice"),
    ({"size": 0}, "size", "positive integer"),
    ({"size": -3}, "size", "positive integer"),
    ({"size": 2.5}, "size", "positive integer"),
    ({"fraction": 0}, "fraction", "(0, 1]"),
    ({"fraction": 1.5}, "fraction", "(0, 1]"),
    ({"size": 10, "fraction": 0.1}, "size", "both size and fraction"),
    ({"methods": ["random", "full"]}, "size", "random need a size"),
])
def test_bad_selection_is_one_line_config_error(kwargs, where, message):
    with pytest.raises(ConfigError) as info:
        SelectionConfig(**kwargs)
    text = str(info.value)
    assert "\n" not in text and f"field '{where}'" in text and message in text
    with pytest.raises(ConfigError, match=rf"select\.yaml, field 'selection\.{where}'"):  # the loader adds the path
        SelectConfig.from_dict({"selection": kwargs}, source="select.yaml")


def test_full_alone_needs_no_size_and_a_string_method_is_a_list(tmp_path: Path):
    assert SelectionConfig(methods="full").methods == ["full"]
    assert SelectionConfig(fraction=0.25).methods == list(METHODS)
    config_file = tmp_path / "distill.yaml"  # a distill config as it is: only `full`, which needs no size
    config_file.write_text("pools: [pool.jsonl]\nmerge: {top_n: 5}\n")
    assert SelectConfig.from_yaml(config_file).selection.methods == ["full"]


def test_a_distill_yaml_with_selection_loads_with_paths_resolved(tmp_path: Path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pool.jsonl").write_text("{}\n")
    config_file = tmp_path / "select.yaml"
    config_file.write_text("output: distilled-elsewhere\npools: [{path: data/pool.jsonl}]\n"
                           "scoring: {score_column: score, rate_missing: false}\n"
                           "distiller: {max_new_tokens: 64}\nmerge: {top_n: 10, long_tail_k: 5}\n"
                           "push_to: org/distilled\n"
                           "selection: {methods: [random, ds2], size: 7, seed: 3, output: baselines}\n")
    config = SelectConfig.from_yaml(config_file)
    assert config.pools[0].path == str(tmp_path / "data" / "pool.jsonl")
    assert config.selection == SelectionConfig(methods=["random", "ds2"], size=7, seed=3, output="baselines")
    work = config.work_config  # select writes to its own output, never pushes
    assert work.output == "baselines" and work.push_to is None and work.merge.long_tail_k == 5
    assert config.output == "distilled-elsewhere" and type(work).__name__ == "DistillConfig"


def test_unknown_selection_key_names_the_file_and_the_known_keys(tmp_path: Path):
    config_file = tmp_path / "select.yaml"
    config_file.write_text("selection: {sizes: 5}\n")
    with pytest.raises(ConfigError, match=r"select\.yaml.*selection\.sizes.*did you mean 'size'"):
        SelectConfig.from_yaml(config_file)


def _cli(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


@pytest.mark.parametrize(("args", "message"), [
    (["--method", "ds3", "--size", "5"], "unknown method 'ds3'"),
    (["--method", "random", "--size", "0"], "selection.size"),
    (["--method", "top-k", "--fraction", "2"], "selection.fraction"),
    (["--method", "random"], "need a size"),
    (["--size", "5", "--fraction", "0.5"], "--size and --fraction are both given"),
])
def test_cli_bad_method_or_size_exits_2_with_one_line(args, message, capsys, tmp_path: Path):
    status, _, err = _cli(["select", *args, "-o", str(tmp_path / "out")], capsys)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert not (tmp_path / "out").exists()  # nothing ran


def test_cli_dry_run_prints_the_resolved_selection(capsys, tmp_path: Path):
    status, out, _ = _cli(["select", "--method", "random,top-k", "--fraction", "0.5", "--seed", "7", "--dry-run",
                           "-o", str(tmp_path / "out")], capsys)
    assert status == 0
    selection = json.loads(out)["selection"]
    assert selection == {"methods": ["random", "top-k"], "size": None, "fraction": 0.5, "seed": 7,
                         "output": str(tmp_path / "out")}
    assert not (tmp_path / "out").exists()


CONFIGS = Path(__file__).resolve().parents[3] / "configs"


@pytest.mark.parametrize("name", ["select_existing_scores.yaml", "select_openai.yaml"])
def test_shipped_select_configs_load(name):
    config = SelectConfig.from_yaml(CONFIGS / name)
    assert config.selection.methods == list(METHODS) and config.selection.size


def test_select_openai_prepares_the_pool_exactly_as_distill_openai():
    """Same pool sections, so a select run after that distill run finds every rating in the cache."""
    from mixture_builder.distill.config import DistillConfig
    from mixture_builder.select.run import pool_fingerprint

    select = SelectConfig.from_yaml(CONFIGS / "select_openai.yaml").work_config
    distill = DistillConfig.from_yaml(CONFIGS / "distill_openai.yaml")
    assert pool_fingerprint(select) == pool_fingerprint(distill)


def test_cli_without_selection_settings_means_full_only(capsys, tmp_path: Path):
    config_file = tmp_path / "distill.yaml"
    config_file.write_text("pools: [pool.jsonl]\n")
    status, out, _ = _cli(["select", "-c", str(config_file), "--dry-run"], capsys)
    assert status == 0 and json.loads(out)["selection"]["methods"] == ["full"]
    status, out, _ = _cli(["select", "-c", str(config_file), "--size", "3", "--dry-run"], capsys)
    assert status == 0 and json.loads(out)["selection"]["methods"] == list(METHODS)
