"""Dataset cards: YAML the Hub accepts, plots on disk, every license, counts that add up."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from huggingface_hub import DatasetCard, DatasetCardData
from huggingface_hub.repocard import metadata_load

from dataset_cards.dataset_card import DatasetCardInfo, size_category, stage_rows, write_dataset_card
from dataset_cards.layout import write_dataset_folder
from mixture_builder.errors import ConfigError
from tests.dataset_cards._fixtures_cards import hub_metadata_problems, mixture_tables

STAGES = {
    "read passages": {"in": 60, "out": 58, "dropped": {"invalid_record": 2}},
    "write samples": {"in": 58, "out": 290, "added": 232, "params": {"tasks": "qa,mcq,tfq,cs,para"}},
    "rate + keep >= 4": {"in": 290, "out": 200, "dropped": {"low_quality": 80, "parse_error": 10}},
    "cluster": {"in": 200, "out": 130, "merged": 70, "params": {"min_size": 2, "max_size": 25}},
}


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, dict]:
    tables = mixture_tables(n_sft=40, n_grpo=90)
    write_dataset_folder(tmp_path, tables, default_config="sft")
    return tmp_path, tables


def _info(**overrides) -> DatasetCardInfo:
    values: dict = dict(  # noqa: C408 (keyword style mirrors the dataclass call)
        pretty_name="MIXTURE (test)",
        summary="A synthetic MIXTURE for tests.",
        stages=STAGES,
        parameters={
            "seed": 42,
            "sft_fraction": 0.3,
            "teacher": {"model": "m", "api_key": "sk-should-not-leak"},
        },
        teacher="SmolLM2-135M-Instruct",
        rater="SmolLM2-135M-Instruct",
        templates={"write_qa": "1", "rate_quality": "2"},
        sources=[
            {"name": "wikipedia", "hub_id": "wikimedia/wikipedia", "license": "cc-by-sa-3.0", "records": 60}
        ],
        repo_id="org/mixture",
    )
    values.update(overrides)
    return DatasetCardInfo(**values)


def test_card_yaml_passes_hub_card_validation(built: tuple[Path, dict]) -> None:
    folder, _ = built
    path = write_dataset_card(folder, _info())
    card = DatasetCard.load(path)  # huggingface_hub parses and validates the YAML block
    metadata = metadata_load(path)
    assert card.data.to_dict() == DatasetCardData(**metadata).to_dict()
    assert hub_metadata_problems(metadata, folder) == []
    assert metadata["pretty_name"] == "MIXTURE (test)"
    assert metadata["language"] == ["en"] and metadata["task_categories"] == ["text-generation"]
    assert metadata["size_categories"] == ["n<1K"]
    assert metadata["source_datasets"] == ["wikimedia/wikipedia"]
    assert {"lm-mixup", "mixture"} <= set(metadata["tags"])
    from datasets.utils.metadata import MetadataConfigs

    configs = MetadataConfigs.from_dataset_card_data(card.data)  # datasets' own check of `configs`
    assert set(configs) == {"sft", "grpo"} and configs.get_default_config_name() == "sft"


def test_card_validates_against_the_local_hub(built: tuple[Path, dict]) -> None:
    testing = pytest.importorskip("hub.testing", reason="the hub package's local server is not available")
    folder, _ = built
    card = DatasetCard.load(write_dataset_card(folder, _info()))
    with testing.local_hub(folder.parent / "hub"):
        card.validate()  # POST /api/validate-yaml through huggingface_hub; raises ValueError when rejected
        card.data.license = ["cc-by-sa-3.0", "not-a-hub-license"]
        with pytest.raises(ValueError, match="'not-a-hub-license' is not a Hub license id"):
            card.validate()
        card.data.license = "other"
        card.data.configs = [{"config_name": "sft"}]
        with pytest.raises(ValueError, match='"configs" \'sft\' needs "data_files"'):
            card.validate()


def test_every_license_in_the_data_is_declared(built: tuple[Path, dict]) -> None:
    folder, _ = built
    metadata = metadata_load(write_dataset_card(folder, _info()))
    # CC BY-SA 3.0; GFDL | cc-by-nc-4.0 | Apache-2.0 | LIMA research terms (no Hub id → other + name)
    assert sorted(metadata["license"]) == ["apache-2.0", "cc-by-nc-4.0", "cc-by-sa-3.0", "gfdl", "other"]
    assert metadata["license_name"] == "lima-research-terms"
    body = (folder / "README.md").read_text()
    assert "| LIMA research terms | other |" in body


def test_card_shows_plots_that_exist(built: tuple[Path, dict]) -> None:
    folder, _ = built
    body = DatasetCard.load(write_dataset_card(folder, _info())).text
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", body)
    assert {"figures/quality.png", "figures/cluster_size.png", "figures/task_types.png"} <= set(images)
    for image in images:
        data = (folder / image).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 1000


def test_counts_per_split_task_and_distributions_add_up(built: tuple[Path, dict]) -> None:
    folder, tables = built
    body = DatasetCard.load(write_dataset_card(folder, _info())).text
    total = sum(len(rows) for splits in tables.values() for rows in splits.values())
    assert f"| **all** | | **{total}** |" in body
    for config, splits in tables.items():
        for split, rows in splits.items():
            assert f"| `{config}` | {split} | {len(rows)} |" in body
        train, test = splits["train"], splits["test"]
        for task in {r["task_type"] for r in train + test}:
            n_train = sum(r["task_type"] == task for r in train)
            n_test = sum(r["task_type"] == task for r in test)
            assert f"| `{config}` | {task} | {n_train} | {n_test} | {n_train + n_test} |" in body
    all_rows = [r for splits in tables.values() for rows in splits.values() for r in rows]
    quality_section = body.split("### Quality score")[1].split("###")[0]
    for score in {r["quality"] for r in all_rows}:
        n = sum(r["quality"] == score for r in all_rows)
        assert re.search(rf"^\| {score} \|.*\| {n} \|$", quality_section, re.MULTILINE), (score, n)
    cluster_section = body.split("### Cluster size")[1].split("##")[0]
    for size in {len(r["inputs"]) for r in all_rows}:
        n = sum(len(r["inputs"]) == size for r in all_rows)
        assert re.search(rf"^\| {size} \|.*\| {n} \|$", cluster_section, re.MULTILINE), (size, n)


def test_stage_counts_balance_and_imbalance_is_flagged(built: tuple[Path, dict]) -> None:
    rows = stage_rows(STAGES)
    assert [r["unaccounted"] for r in rows] == [0, 0, 0, 0]
    assert rows[2]["dropped_total"] == 90
    folder, _ = built
    stages = {**STAGES, "split": {"in": 130, "out": 120}}
    body = DatasetCard.load(write_dataset_card(folder, _info(stages=stages))).text
    assert "| rate + keep >= 4 | 290 | 0 | 90 | low_quality: 80, parse_error: 10 | 0 | 200 |" in body
    assert "stage `split` has 10 records not accounted for" in body
    assert "Records written: **130** (last stage out: 120; **10 more** rows are in the files" in body


def test_added_and_merged_flow_from_stats_json_into_the_stage_table(built: tuple[Path, dict]) -> None:
    from dataset_cards.regenerate import regenerate_card

    folder, _ = built
    (folder / "stats.json").write_text(json.dumps({"pretty_name": "From stats", "stages": STAGES}))
    body = DatasetCard.load(regenerate_card(folder)).text  # what `lm-mixup card DIR` renders
    assert "| write samples | 58 | 232 | 0 |  | 0 | 290 | `tasks=qa,mcq,tfq,cs,para` |" in body
    assert "| cluster | 200 | 0 | 0 |  | 70 | 130 |" in body
    assert "not accounted for" not in body
    assert json.loads((folder / "stats.json").read_text())["stages"]["write samples"]["added"] == 232


def test_provenance_models_templates_and_load_snippet(built: tuple[Path, dict]) -> None:
    folder, _ = built
    text = write_dataset_card(folder, _info()).read_text()
    assert 'load_dataset("org/mixture", "sft")' in text
    for column in ("source_ids", "degradations", "teacher", "license", "quality"):
        assert f"| `{column}` |" in text
    assert "Teacher / writer: `SmolLM2-135M-Instruct`" in text and "| `rate_quality` | 2 |" in text
    assert "sk-should-not-leak" not in text and "api_key" not in text
    assert "arXiv:2510.20449" in text and "@article{lmmixup2025" in text


def test_card_is_robust_to_missing_optional_columns(tmp_path: Path) -> None:
    write_dataset_folder(tmp_path, {"default": {"train": [{"text": "a"}, {"text": "b"}]}})
    path = write_dataset_card(tmp_path, DatasetCardInfo(pretty_name="Bare", kind="other"))
    metadata = metadata_load(path)
    assert "license" not in metadata and hub_metadata_problems(metadata, tmp_path) == []
    text = path.read_text()
    assert "No per-stage counts were recorded" in text and "no `quality` or cluster column" in text
    assert not (tmp_path / "figures").exists() or not list((tmp_path / "figures").glob("*.png"))


def test_cluster_size_column_and_float_quality(tmp_path: Path) -> None:
    rows = [
        {"id": str(i), "cluster_size": 2 + i % 3, "quality": 4.0 + (i % 2) / 2, "licenses": ["mit"]}
        for i in range(6)
    ]
    write_dataset_folder(tmp_path, {"default": {"train": rows}})
    text = write_dataset_card(
        tmp_path, DatasetCardInfo(pretty_name="Distilled", kind="distilled")
    ).read_text()
    assert "from the `cluster_size` column" in text and "| 4.5 |" in text
    assert metadata_load(tmp_path / "README.md")["license"] == "mit"


def test_no_shards_and_bad_info_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no Parquet shards"):
        write_dataset_card(tmp_path, DatasetCardInfo(pretty_name="x"))
    with pytest.raises(ConfigError, match="pretty_name"):
        DatasetCardInfo(pretty_name=" ")
    with pytest.raises(ConfigError, match="stage 'read'"):
        DatasetCardInfo(pretty_name="x", stages={"read": 3})


@pytest.mark.parametrize(
    ("n", "category"), [(0, "n<1K"), (999, "n<1K"), (1000, "1K<n<10K"), (144_000, "100K<n<1M"),
     (2 * 10**9, "1B<n<10B"), (5 * 10**12, "n>1T")]
)
def test_size_category(n: int, category: str) -> None:
    assert size_category(n) == category


def test_stats_json_round_trip_regenerates_the_same_card(built: tuple[Path, dict]) -> None:
    from dataset_cards.regenerate import regenerate_card

    folder, _ = built
    stats = {
        "pipeline": "mixture",
        "pretty_name": "MIXTURE (test)",
        "stages": STAGES,
        "repo_id": "org/mixture",
        "teacher": {"model": "SmolLM2-135M-Instruct", "backend": "embedded", "api_key": "sk-x"},
        "templates": {"write_qa": "1"},
        "default_config": "sft",
    }
    (folder / "stats.json").write_text(json.dumps(stats))
    text = regenerate_card(folder).read_text()
    assert "Teacher / writer: `SmolLM2-135M-Instruct (embedded)`" in text and "sk-x" not in text
    assert "| cluster | 200 | 0 | 0 |  | 70 | 130 |" in text


def test_extra_markdown_and_regeneration_keep_title_and_kind(built: tuple[Path, dict]) -> None:
    from dataset_cards.regenerate import regenerate_card

    folder, _ = built
    text = write_dataset_card(folder, _info(extra_markdown="## Distillation\n\nMore facts.\n")).read_text()
    assert text.index("## Distillation") < text.index("## Citation")
    (folder / "stats.json").write_text(json.dumps({"distiller": "lm-mixup-1.5b", "stages": {}}))
    text = regenerate_card(folder, kind="dataset").read_text()
    assert metadata_load(folder / "README.md")["pretty_name"] == "MIXTURE (test)"
    assert "distilled" in metadata_load(folder / "README.md")["tags"]
    assert "Teacher / writer: `lm-mixup-1.5b`" in text


def test_table_cells_from_data_are_escaped(tmp_path: Path) -> None:
    rows = [{"id": "1", "source": "a|b\nc", "license": "mit", "task_type": "qa|x"}]
    write_dataset_folder(tmp_path, {"default": {"train": rows}})
    text = write_dataset_card(
        tmp_path, _info(stages={"x|y": {"in": 1, "out": 1, "note": "two\nlines"}})
    ).read_text()
    assert "| a\\|b c | 1 |" in text and "| x\\|y | 1 |" in text and "`x\\|y`: two lines" in text
