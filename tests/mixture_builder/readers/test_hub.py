"""Reading Hub datasets by id (``org/name`` → HubReader) and by ``hf://`` URL (RawReader over HfFileSystem),
against the project's local Hub-compatible server."""

from __future__ import annotations

from pathlib import Path

import pytest

from mixture_builder.readers import read_records


@pytest.fixture
def tiny_hub_dataset(tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hub.push import push_folder
    from hub.testing import local_hub

    folder = tmp_path / "ds"
    (folder / "data").mkdir(parents=True)
    table = pa.table(
        {"instruction": ["Add 1 and 1.", "Add 2 and 2."], "input": ["", ""], "output": ["2", "4"]}
    )
    pq.write_table(table, folder / "data" / "train-00000-of-00001.parquet")
    (folder / "SOURCE.md").write_text("# Tiny\n\nLicense: MIT\n")
    with local_hub(tmp_path / "hub"):
        push_folder(folder, "org/tiny")
        yield "org/tiny"


def test_hub_dataset_id(tiny_hub_dataset: str):
    docs = list(read_records(tiny_hub_dataset, license="mit"))
    assert [d.metadata["output"] for d in docs] == ["2", "4"]
    assert docs[0].id == "tiny/train:0" and docs[0].metadata["license"] == "mit"
    docs = list(read_records(f"{tiny_hub_dataset}:train", source="tiny-set"))
    assert docs[1].id == "tiny-set/train:1"


def test_hf_url_reads_files_and_source_card(tiny_hub_dataset: str):
    docs = list(read_records(f"hf://datasets/{tiny_hub_dataset}"))
    assert [d.metadata["instruction"] for d in docs] == ["Add 1 and 1.", "Add 2 and 2."]
    assert (docs[0].metadata["source"], docs[0].metadata["license"]) == ("tiny", "mit")
