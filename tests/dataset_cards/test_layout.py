"""Dataset folder layout: Parquet shards per config/split that `datasets.load_dataset` understands."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub.repocard import metadata_load

from dataset_cards.folder_yaml import folder_dataset_info
from dataset_cards.layout import write_dataset_folder
from dataset_cards.shards import folder_configs, parquet_files
from mixture_builder.errors import ConfigError
from tests.dataset_cards._fixtures_cards import mixture_rows, mixture_tables


def _load(path: Path, *args, **kwargs):
    import datasets

    return datasets.load_dataset(str(path), *args, **kwargs)


def test_sft_and_grpo_configs_round_trip_through_load_dataset(tmp_path: Path) -> None:
    tables = mixture_tables()
    written = write_dataset_folder(tmp_path, tables, default_config="sft")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "data_grpo/test-00000-of-00001.parquet",
        "data_grpo/train-00000-of-00001.parquet",
        "data_sft/test-00000-of-00001.parquet",
        "data_sft/train-00000-of-00001.parquet",
    ]
    configs = metadata_load(tmp_path / "README.md")["configs"]
    assert [c["config_name"] for c in configs] == ["sft", "grpo"]
    assert configs[0]["default"] is True and "default" not in configs[1]
    for config in ("sft", "grpo"):
        ds = _load(tmp_path, config)
        assert set(ds) == {"train", "test"}
        for split in ("train", "test"):
            assert ds[split].to_list() == tables[config][split]
    assert _load(tmp_path)["train"].num_rows == len(tables["sft"]["train"])  # the default config
    streamed = _load(tmp_path, "grpo", split="test", streaming=True)
    assert [row["id"] for row in streamed] == [row["id"] for row in tables["grpo"]["test"]]


def test_single_default_config_loads_without_a_name(tmp_path: Path) -> None:
    rows = mixture_rows(12, "d")
    write_dataset_folder(tmp_path, {"default": {"train": rows[:10], "test": rows[10:]}})
    assert (tmp_path / "data" / "train-00000-of-00001.parquet").is_file()
    assert folder_configs(tmp_path) == [
        {
            "config_name": "default",
            "data_files": [
                {"split": "train", "path": "data/train-*"},
                {"split": "test", "path": "data/test-*"},
            ],
            "default": True,
        }
    ]
    ds = _load(tmp_path)
    assert ds["train"].to_list() == rows[:10] and ds["test"].to_list() == rows[10:]


def test_shards_are_cut_by_size_and_keep_row_order(tmp_path: Path) -> None:
    rows = mixture_rows(300, "s")
    nbytes = pa.Table.from_pylist(rows).nbytes
    written = write_dataset_folder(tmp_path, {"sft": {"train": rows}}, shard_size_bytes=nbytes // 4)
    names = [p.name for p in written]
    assert names == [f"train-{i:05d}-of-00005.parquet" for i in range(5)]  # ceil(nbytes / (nbytes // 4))
    sizes = [pq.ParquetFile(p).metadata.num_rows for p in written]
    assert sum(sizes) == 300 and max(sizes) - min(sizes) <= 1
    assert [r["id"] for r in _load(tmp_path, "sft", split="train")] == [r["id"] for r in rows]
    assert parquet_files(tmp_path)["sft"]["train"] == written


def test_rewrite_removes_stale_shards_of_that_config_only(tmp_path: Path) -> None:
    rows = mixture_rows(200, "r")
    write_dataset_folder(
        tmp_path,
        {"sft": {"train": rows, "test": rows[:5]}, "grpo": {"train": rows[:7]}},
        shard_size_bytes=2_000,
    )
    assert len(list((tmp_path / "data_sft").glob("train-*.parquet"))) > 1
    grpo_before = sorted(p.name for p in (tmp_path / "data_grpo").iterdir())
    write_dataset_folder(tmp_path, {"sft": {"train": rows[:20]}})
    assert sorted(p.name for p in (tmp_path / "data_sft").iterdir()) == ["train-00000-of-00001.parquet"]
    assert sorted(p.name for p in (tmp_path / "data_grpo").iterdir()) == grpo_before
    assert _load(tmp_path, "sft")["train"].num_rows == 20
    assert _load(tmp_path, "grpo")["train"].num_rows == 7


def test_readme_update_keeps_the_rest_of_the_card(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("---\npretty_name: Kept\n---\n\n# Body kept\n")
    write_dataset_folder(tmp_path, {"sft": {"train": mixture_rows(3, "k")}})
    text = (tmp_path / "README.md").read_text()
    assert "# Body kept" in text
    assert metadata_load(tmp_path / "README.md")["pretty_name"] == "Kept"


def test_arrow_tables_datasets_and_mixed_schemas(tmp_path: Path) -> None:
    import datasets

    rows = mixture_rows(10, "a")
    shuffled = datasets.Dataset.from_list(rows).shuffle(seed=1)  # has an indices mapping
    write_dataset_folder(
        tmp_path,
        {
            "a": {"train": pa.Table.from_pylist(rows), "test": shuffled},
            "b": {"train": [{"x": 1, "y": None}], "test": [{"x": 2, "y": "text"}]},  # null vs string column
        },
    )
    assert _load(tmp_path, "a")["test"].to_list() == shuffled.to_list()
    b = _load(tmp_path, "b")
    assert b["train"].to_list() == [{"x": 1, "y": None}] and b["test"].to_list() == [{"x": 2, "y": "text"}]


def test_empty_split_gets_no_shard(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_dataset_folder(tmp_path, {"grpo": {"train": mixture_rows(4, "e"), "test": []}})
    assert "no rows" in caplog.text
    assert set(_load(tmp_path, "grpo")) == {"train"}


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ({"bad/name": {"train": []}}, "invalid config name"),
        ({"sft": {"train-1": []}}, "invalid split name"),
        ({"sft": {"train": ["not a dict"]}}, "record 0 is a str"),
    ],
)
def test_bad_names_and_rows_are_config_errors(tmp_path: Path, tables: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        write_dataset_folder(tmp_path, tables)


def test_unknown_default_config_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="default config 'nope'"):
        write_dataset_folder(tmp_path, {"sft": {"train": mixture_rows(2, "u")}}, default_config="nope")


def test_rewritten_folders_with_one_base_name_never_load_a_stale_cache(tmp_path: Path) -> None:
    """``datasets`` caches a README-configured folder by base name, config and README metadata only; the
    shards' digest and sizes in that metadata make a rewrite (or another ``out/``) a new cache entry."""
    from dataset_cards.dataset_card import DatasetCardInfo, write_dataset_card

    def write(folder: Path, n: int, tag: str) -> list[dict]:
        rows = mixture_rows(n, tag)
        tables = {"sft": {"train": rows, "test": rows[:1]}, "grpo": {"train": rows[:2]}}
        write_dataset_folder(folder, tables, default_config="sft")
        return rows

    a, b = tmp_path / "a" / "out", tmp_path / "b" / "out"
    for folder, n, tag in [(a, 3, "a1"), (b, 5, "b1"), (a, 7, "a2"), (b, 5, "b2"), (a, 3, "a3")]:
        rows = write(folder, n, tag)
        assert _load(folder, "sft")["train"].to_list() == rows  # the same row count as before: new content
        assert _load(folder, split="train").num_rows == n  # the default config
        assert _load(folder, "grpo", split="train")["id"] == [r["id"] for r in rows[:2]]
    write_dataset_card(a, DatasetCardInfo(pretty_name="Card kept"))  # the full card keeps dataset_info
    rows = write(a, 9, "a4")
    assert metadata_load(a / "README.md")["pretty_name"] == "Card kept"
    assert _load(a, "sft")["train"].to_list() == rows
    assert _load(a, "sft", download_mode="force_redownload")["train"].num_rows == 9
    for value in (1, 2):  # an in-place edit: same rows, same sizes, other content
        rows = [{**row, "quality": value} for row in rows]
        write_dataset_folder(a, {"sft": {"train": rows}})
        assert _load(a, "sft", split="train")["quality"] == [value] * 9


def test_dataset_info_matches_what_datasets_records(tmp_path: Path) -> None:
    import datasets

    tables = mixture_tables(n_sft=20, n_grpo=30)
    write_dataset_folder(tmp_path, tables, shard_size_bytes=4096, default_config="sft")
    infos = {entry["config_name"]: entry for entry in metadata_load(tmp_path / "README.md")["dataset_info"]}
    assert folder_dataset_info(tmp_path) == list(infos.values())
    assert sorted(infos) == ["grpo", "sft"]
    for config in ("sft", "grpo"):
        assert {s["name"]: s["num_examples"] for s in infos[config]["splits"]} == {
            split: len(rows) for split, rows in tables[config].items()
        }
        assert infos[config]["download_size"] == sum(
            p.stat().st_size for paths in parquet_files(tmp_path)[config].values() for p in paths
        )
        builder = datasets.load_dataset_builder(str(tmp_path), config)
        assert builder.info.features == datasets.Features._from_yaml_list(infos[config]["features"])
        builder.download_and_prepare()  # verifies the split sizes against the card's dataset_info
        assert builder.as_dataset("train").to_list() == tables[config]["train"]
