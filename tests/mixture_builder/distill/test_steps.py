"""Record-wise steps: normalisation, existing scores, decontamination, the demo pool."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mixture_builder.distill.config import demo_pool_path
from mixture_builder.distill.steps import (
    AttachExistingScore,
    NormaliseInstruction,
    RequireScore,
    load_scores_file,
)
from mixture_builder.errors import InputError
from mixture_builder.records import make_instruction, make_passage


def _doc(i, instruction="Say hi.", output="Hi!", input="", **extra):
    return make_instruction(instruction=instruction, input=input, output=output, source="s", license="mit",
                            source_id=i, **extra)


def test_normalise_cleans_and_drops_with_reasons():
    step = NormaliseInstruction()
    docs = [_doc(1, "  Say   hi. ", "Hi!\n\n\n\nBye", input="<noinput>"), _doc(2, output="   "), _doc(3, "  "),
            make_passage("text", title="t", source="w", license="cc", doc_id="p")]
    kept = list(step.run(iter(docs)))
    assert [d.id for d in kept] == ["s/1"]
    assert kept[0].metadata["instruction"] == "Say hi." and kept[0].metadata["input"] == ""
    assert kept[0].text == "Say hi.\n\nHi!\n\nBye"
    stats = step.stats.to_dict()["stats"]
    assert stats["dropped_empty_output"] == 1 and stats["dropped_empty_instruction"] == 1
    assert stats["dropped_not_instruction"] == 1


def test_existing_scores_from_column_signals_and_file(tmp_path: Path):
    scores = tmp_path / "scores.jsonl"
    scores.write_text(json.dumps({"id": "s/3", "quality": 5}) + "\n")
    step = AttachExistingScore("quality", str(scores))
    docs = [_doc(1, quality=4), _doc(2, quality_signals={"quality": "2"}), _doc(3), _doc(4, quality="high")]
    out = {d.id: d.metadata.get("quality") for d in step.run(iter(docs))}
    assert out == {"s/1": 4, "s/2": 2, "s/3": 5, "s/4": None}
    kept = list(RequireScore().run(iter(step.run(iter([_doc(5), _doc(6, quality=3)])))))
    assert [d.id for d in kept] == ["s/6"]


def test_bad_scores_file_names_the_line(tmp_path: Path):
    scores = tmp_path / "scores.jsonl"
    scores.write_text(json.dumps({"id": "a", "quality": 4}) + "\n" + json.dumps({"id": "b", "quality": 9}) + "\n")
    with pytest.raises(InputError, match=r"scores.jsonl, line 2"):
        load_scores_file(str(scores), "quality")


def test_demo_pool_reads_as_three_sources_with_duplicates_and_scores():
    from mixture_builder.readers import read_records

    docs = list(read_records(str(demo_pool_path())))
    assert 120 <= len(docs) <= 200
    assert {d.metadata["source"] for d in docs} == {"general", "howto", "code"}
    assert {d.metadata["license"] for d in docs} == {"apache-2.0"}
    texts = [d.text for d in docs]
    assert len(set(texts)) < len(texts)  # exact duplicates on purpose
    scored = [d for d in docs if (d.metadata.get("quality_signals") or {}).get("quality") is not None]
    assert len(docs) // 2 < len(scored) < len(docs)  # the rest goes to the LLM rater


def test_decontamination_drops_benchmark_overlap(raw_dir: Path, tmp_path: Path):
    from mixture_builder.distill.decont import BenchmarkIndexer, decont_filter

    gsm8k = raw_dir / "gsm8k" / "test.jsonl"
    question = json.loads(gsm8k.read_text().splitlines()[3])["question"]
    list(BenchmarkIndexer(str(tmp_path), [str(gsm8k)]).run(None) or [])
    step = decont_filter(str(tmp_path))
    docs = [_doc(1, "Solve: " + question, "42"), _doc(2, "How do I boil an egg?", "Simmer it for ten minutes.")]
    kept = list(step.run(iter(docs)))
    assert [d.id for d in kept] == ["s/2"]
    assert step.stats.to_dict()["stats"]["dropped_contaminated"] == 1
    assert docs[0].metadata["contaminated_task"] == "gsm8k_test"
