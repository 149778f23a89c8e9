"""License mapping, stats.json reading (lenient, secrets removed) and datatrove stats conversion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataset_cards.build_stats import info_from_stats, load_stats_json, stages_from_datatrove
from dataset_cards.dataset_card import stage_rows
from dataset_cards.licenses import license_counts, license_metadata, split_license_string, to_hub_license_id
from mixture_builder.errors import InputError


@pytest.mark.parametrize(
    ("raw", "hub_id"),
    [
        ("CC BY-NC 4.0", "cc-by-nc-4.0"),
        ("Apache-2.0", "apache-2.0"),
        ("apache 2.0", "apache-2.0"),
        ("MIT License", "mit"),
        ("Creative Commons BY-SA 4.0", "cc-by-sa-4.0"),
        ("openrail++", "openrail++"),
        ("GFDL", "gfdl"),
        ("", "unknown"),
        ("LIMA research terms", None),
    ],
)
def test_to_hub_license_id(raw: str, hub_id: str | None) -> None:
    assert to_hub_license_id(raw) == hub_id


def test_combined_strings_are_split() -> None:
    assert split_license_string("CC BY-SA 3.0; GFDL") == ["CC BY-SA 3.0", "GFDL"]
    assert split_license_string("cc-by-sa-3.0 + cc-by-nc-4.0 and MIT") == [
        "cc-by-sa-3.0",
        "cc-by-nc-4.0",
        "MIT",
    ]
    counts = license_counts(["a; b", ["b", "c"], None])
    assert counts == {"a": 1, "b": 2, "c": 1, "unknown": 1}


def test_license_metadata_lists_all_and_names_unmapped_ones() -> None:
    assert license_metadata({"Apache-2.0": 3}) == {"license": "apache-2.0"}
    fields = license_metadata({"Apache-2.0": 3, "Custom A": 2, "Custom B": 1}, declared=["mit"])
    assert fields["license"] == ["mit", "apache-2.0", "other"]
    assert fields["license_name"] == "multiple-source-licenses" and fields["license_link"]
    assert license_metadata({}) == {}


def test_stats_json_is_lenient_and_drops_secrets(tmp_path: Path) -> None:
    assert load_stats_json(tmp_path) == {}
    (tmp_path / "stats.json").write_text(
        json.dumps(
            {
                "pipeline": "distilled",
                "unknown_key": 1,
                "sources": ["alpaca", {"name": "dolly", "hub_id": "databricks/x"}],
                "teacher": {"model": "gpt-x", "api_key": "sk-1"},
                "parameters": {"max_tokens": 5, "hf_token": "hf_2"},
                "language": "en",
            }
        )
    )
    stats = load_stats_json(tmp_path)
    assert "sk-1" not in json.dumps(stats) and "hf_2" not in json.dumps(stats)
    info = info_from_stats(stats, default_name="pool")
    assert info.pretty_name == "pool" and info.kind == "distilled" and info.teacher == "gpt-x"
    assert info.parameters == {"max_tokens": 5} and info.language == ["en"]
    assert [s["name"] for s in info.sources] == ["alpaca", "dolly"]


def test_bad_stats_json_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "stats.json").write_text('{\n  "stages": ,\n}')
    with pytest.raises(InputError, match=r"stats.json, line 2: invalid JSON"):
        load_stats_json(tmp_path)


def test_stages_from_datatrove_stats() -> None:
    steps = [
        {"name": "📖 - READER: 🐿 Jsonl", "time_stats": {}, "stats": {"documents": 100}},
        {
            "name": "🔻 - FILTER: 🎯 Quality",
            "stats": {
                "total": 100,
                "forwarded": 70,
                "dropped": 30,
                "dropped_low_quality": {"total": 25},
                "dropped_parse_error": 5,
            },
        },
        {"name": "✍ writer: samples", "stats": {"total": 70, "forwarded": 200, "dropped_parse_error": 10}},
        {"name": "💽 - WRITER: x", "stats": {"total": 200, "forwarded": 200, "dropped": 0}},
        {"name": "timing only", "stats": {}},
    ]
    stages = stages_from_datatrove(steps)
    assert stages == {
        "READER: Jsonl": {"out": 100},
        "FILTER: Quality": {"in": 100, "out": 70, "dropped": {"low_quality": 25, "parse_error": 5}},
        "writer: samples": {"in": 70, "out": 200, "dropped": {"parse_error": 10}, "added": 140},
        "WRITER: x": {"in": 200, "out": 200},
    }
    assert [row["unaccounted"] for row in stage_rows(stages)] == [None, 0, 0, 0]
