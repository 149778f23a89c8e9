"""Exact and MinHash near-duplicate removal on real data, with links to the kept records."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from mixture_builder.clustering.dedup import normalised_content
from mixture_builder.clustering.pipelines import dedup_plan
from mixture_builder.records import make_instruction

from .conftest import (
    in_process_executors,
    load_alpaca_records,
    load_toolformer_records,
    read_jsonl_folder,
    write_jsonl_shards,
)


def _content_key(meta: dict) -> tuple[str, ...]:
    return tuple(" ".join(meta[f].split()).lower() for f in ("instruction", "input", "output"))


def _shingles(text: str, n: int = 5) -> set:
    words = re.sub(r"[^a-z ]", " ", text.lower()).split()
    return {tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}


@pytest.fixture(scope="module")
def dedup_run(raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Alpaca (Stanford 5000 subset vs. AlpaGasus random 9k, which overlap) and GPTeacher Toolformer records
    in two shards, deduplicated by two tasks."""
    root = tmp_path_factory.mktemp("dedup")
    alpaca = load_alpaca_records(raw_dir / "stanford_alpaca/alpaca_5000.shared.json", "stanford_alpaca", 800)
    random9k = load_alpaca_records(raw_dir / "alpagasus/random_9k.json", "alpagasus_random_9k", 1500)
    tool = load_toolformer_records(raw_dir / "gpteacher_toolformer/toolformer-dedupe-only-dataset.json", 400)
    write_jsonl_shards(root / "in", {"a.jsonl": alpaca + tool[:200], "b.jsonl": random9k + tool[200:]})

    def reader() -> JsonlReader:
        return JsonlReader(str(root / "in"))

    make = in_process_executors(root / "work")
    plan = dedup_plan(reader, root / "work", tasks=2, executor_factory=make,
                      exclusion_writer=lambda kind: JsonlWriter(str(root / f"removed_{kind}"), compression=None))
    make([reader(), *plan.steps, JsonlWriter(str(root / "kept"), compression=None)], tasks=2, name="final",
         depends=plan.last).run()
    return {
        "root": root,
        "input": read_jsonl_folder(root / "in"),
        "kept": read_jsonl_folder(root / "kept"),
        "exact": read_jsonl_folder(root / "removed_exact"),
        "near": read_jsonl_folder(root / "removed_near"),
    }


def test_every_record_is_kept_or_removed_once(dedup_run: dict) -> None:
    ids_in = [d["id"] for d in dedup_run["input"]]
    ids_out = [d["id"] for d in dedup_run["kept"] + dedup_run["exact"] + dedup_run["near"]]
    assert sorted(ids_in) == sorted(ids_out)


def test_exact_duplicates_found_and_linked(dedup_run: dict) -> None:
    counts = Counter(_content_key(d["metadata"]) for d in dedup_run["input"])
    expected = sum(n - 1 for n in counts.values())
    assert expected > 20  # the Alpaca subsets overlap
    assert len(dedup_run["exact"]) == expected
    by_id = {d["id"]: d for d in dedup_run["input"]}
    kept_ids = {d["id"] for d in dedup_run["kept"]}
    for doc in dedup_run["exact"]:
        target = doc["metadata"]["duplicate_of"]
        assert target in kept_ids and target != doc["id"]
        assert _content_key(by_id[target]["metadata"]) == _content_key(doc["metadata"])
    # no exact duplicate survives
    assert len({_content_key(d["metadata"]) for d in dedup_run["kept"]}) == len(dedup_run["kept"])
    # the Stanford copy (first shard, first task) is the one kept
    assert {d["metadata"]["source"] for d in dedup_run["exact"]} == {"alpagasus_random_9k"}


def test_near_duplicates_found_and_linked(dedup_run: dict) -> None:
    near = dedup_run["near"]
    assert len(near) > 50  # Toolformer prompts share long templates
    by_id = {d["id"]: d for d in dedup_run["input"]}
    kept_ids = {d["id"] for d in dedup_run["kept"]}
    similarities = []
    for doc in near:
        target = by_id[doc["metadata"]["duplicate_of"]]
        assert target["id"] in kept_ids
        assert _content_key(target["metadata"]) != _content_key(doc["metadata"])  # near, not exact
        a, b = _shingles(doc["text"]), _shingles(target["text"])
        similarities.append(len(a & b) / len(a | b))
    similarities.sort()
    assert similarities[len(similarities) // 2] > 0.45  # median word-5-gram Jaccard with the kept record


def test_near_dedup_agrees_with_gpteacher_similarity_cleaning(dedup_run: dict, raw_dir: Path) -> None:
    """GPTeacher's similarity-0.6 set drops near-duplicates of the dedupe-only set: records we remove
    as near-duplicates are much less often in it than records we keep."""
    cleaned = json.loads((raw_dir / "gpteacher_toolformer/toolformer-similarity-0.6-dataset.json").read_text())
    cleaned_keys = {(r["instruction"], r["input"], r["response"]) for r in cleaned}

    def share(docs: list[dict]) -> float:
        tool = [d["metadata"] for d in docs if d["metadata"]["source"] == "gpteacher_toolformer"]
        return sum((m["instruction"], m["input"], m["output"]) in cleaned_keys for m in tool) / len(tool)

    assert share(dedup_run["near"]) < share(dedup_run["kept"]) - 0.15


def test_stats_count_dropped_per_reason(dedup_run: dict) -> None:
    stats = json.loads((dedup_run["root"] / "work/logs/final/stats.json").read_text())
    merged = {k: v for step in stats for k, v in step["stats"].items()}
    assert merged["dropped_exact_duplicate"] == len(dedup_run["exact"])
    assert merged["dropped_near_duplicate"] == len(dedup_run["near"])


def test_normalised_content_folds_case_and_spaces() -> None:
    a = make_instruction(instruction="Add  the numbers", input="2, 3", output="5", source="s", license="l",
                         source_id=1)
    b = make_instruction(instruction="add the numbers ", input="2,  3", output="5", source="t", license="l",
                         source_id=2)
    c = make_instruction(instruction="add the numbers 2, 3", input="", output="5", source="t", license="l",
                         source_id=3)
    assert normalised_content(a) == normalised_content(b) != normalised_content(c)
