"""A dataset folder with its card, pushed to the local Hub and loaded back by config; real raw data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub.repocard import metadata_load

from dataset_cards.dataset_card import DatasetCardInfo, write_dataset_card
from dataset_cards.layout import write_dataset_folder
from tests.dataset_cards._fixtures_cards import hub_metadata_problems, mixture_tables


def test_pushed_folder_loads_by_config_with_its_card(tmp_path: Path) -> None:
    testing = pytest.importorskip("hub.testing", reason="the hub package's local server is not available")
    push = pytest.importorskip("hub.push", reason="the hub package's push is not available")
    import datasets
    from huggingface_hub import DatasetCard, HfApi

    folder = tmp_path / "mixture"
    tables = mixture_tables(20, 40)
    write_dataset_folder(folder, tables, shard_size_bytes=4_000, default_config="sft")
    write_dataset_card(folder, DatasetCardInfo(pretty_name="MIXTURE e2e", repo_id="org/mixture-e2e"))
    with testing.local_hub(tmp_path / "hub"):
        push.push_folder(folder, "org/mixture-e2e", repo_type="dataset")
        files = set(HfApi().list_repo_files("org/mixture-e2e", repo_type="dataset"))
        assert {"README.md", "figures/quality.png", "figures/cluster_size.png"} <= files
        assert sum(f.startswith("data_sft/train-") for f in files) > 1  # several shards
        card = DatasetCard.load("org/mixture-e2e", repo_type="dataset")
        card.validate()
        for config in ("sft", "grpo"):
            ds = datasets.load_dataset("org/mixture-e2e", config)
            assert {split: ds[split].to_list() for split in ds} == tables[config]
        streamed = datasets.load_dataset("org/mixture-e2e", "grpo", split="test", streaming=True)
        assert [row["id"] for row in streamed] == [row["id"] for row in tables["grpo"]["test"]]


def test_card_for_real_alpaca_and_dolly_records(raw_dir: Path, tmp_path: Path) -> None:
    alpaca = json.loads((raw_dir / "stanford_alpaca" / "alpaca_5000.shared.json").read_text())[:300]
    dolly = json.loads((raw_dir / "dolly_alpagasus_3k" / "dolly_3k.shared.json").read_text())[:200]
    rows = [
        {"id": f"alpaca-{i}", "instruction": r["instruction"], "input": r.get("input", ""), "output": r["output"],
         "source": "alpaca", "license": "CC BY-NC 4.0", "quality": (len(r["output"]) // 40) % 6}
        for i, r in enumerate(alpaca)
    ] + [
        {"id": f"dolly-{i}", "instruction": r["instruction"], "input": r.get("input", ""), "output": r["output"],
         "source": "dolly", "license": "CC BY-SA 3.0", "quality": (len(r["output"]) // 40) % 6}
        for i, r in enumerate(dolly)
    ]  # fmt: skip
    write_dataset_folder(tmp_path, {"default": {"train": rows[:450], "test": rows[450:]}})
    info = DatasetCardInfo(
        pretty_name="Real pool sample",
        kind="distilled",
        sources=[
            {
                "name": "alpaca",
                "hub_id": "tatsu-lab/alpaca",
                "license": "cc-by-nc-4.0",
                "records": len(alpaca),
            },
            {"name": "dolly", "hub_id": "databricks/databricks-dolly-15k", "license": "cc-by-sa-3.0"},
        ],
    )
    path = write_dataset_card(tmp_path, info)
    metadata = metadata_load(path)
    assert sorted(metadata["license"]) == ["cc-by-nc-4.0", "cc-by-sa-3.0"]
    assert metadata["source_datasets"] == ["tatsu-lab/alpaca", "databricks/databricks-dolly-15k"]
    assert hub_metadata_problems(metadata, tmp_path) == []
    text = path.read_text()
    assert "| alpaca | 300 |" in text and "| dolly | 200 |" in text and "| **all** | | **500** |" in text
