"""Every file of the real raw folder reads with zero errors; counts match SOURCE.md; fields and provenance."""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path

import pytest

from mixture_builder.readers import load_score_table, read_records
from tests.mixture_builder.readers._source_cards import documents_per_file, source_card_counts

# SOURCE.md counts OASST1 message rows; the reader emits one sample per assistant reply.
MESSAGE_LEVEL = {"oasst1_en_validation"}
SIDE_DATA = {"ds2_raw_scores"}


def test_whole_raw_folder_reads_without_errors(raw_read):
    documents, stats = raw_read
    assert documents
    assert not {name: total for name, total in stats.items() if name.startswith("dropped_")}
    assert stats["skipped_score_table"] == 3
    assert len({doc.id for doc in documents}) == len(documents), "document ids must be unique"
    for doc in documents:
        meta = doc.metadata
        assert meta["kind"] in ("passage", "instruction")
        assert doc.text.strip()
        assert meta["source"] and meta["license"]
        if meta["kind"] == "instruction":
            assert meta["instruction"].strip()
            assert doc.id == f"{meta['source']}/{meta['source_id']}"


def test_record_counts_match_source_cards(raw_dir: Path, raw_read):
    documents, _ = raw_read
    per_file = documents_per_file(documents)
    checked = set()
    for card in sorted(raw_dir.rglob("SOURCE.md")):
        folder = card.parent.name
        if folder in MESSAGE_LEVEL | SIDE_DATA:
            continue
        expected = source_card_counts(card)
        assert expected, f"no counts parsed from {card}"
        for file, count in expected.items():
            assert per_file[(folder, file)] == count, f"{folder}/{file}"
            checked.add((folder, file))
    assert set(per_file) - checked == {("oasst1_en_validation", "en-validation.jsonl")}, (
        "every file is checked"
    )
    assert sum(per_file.values()) == len(documents)


def test_oasst_pairs_account_for_every_assistant_message(raw_dir: Path):
    card = (raw_dir / "oasst1_en_validation" / "SOURCE.md").read_text()
    assert source_card_counts(raw_dir / "oasst1_en_validation" / "SOURCE.md") == {"en-validation.jsonl": 2022}
    assistants = int(re.search(r"([\d,]+) assistant", card).group(1).replace(",", ""))
    result = read_records(str(raw_dir / "oasst1_en_validation"))
    documents = list(result)
    assert len(documents) + result.stats["skipped_orphan_reply"] == assistants == 1243
    with open(raw_dir / "oasst1_en_validation" / "en-validation.jsonl") as handle:
        rows = {row["message_id"]: row for row in map(json.loads, handle)}
    for doc in documents[:50]:
        row = rows[doc.metadata["source_id"]]
        assert row["role"] == "assistant" and doc.metadata["output"] == row["text"]
        assert doc.metadata["instruction"] == rows[row["parent_id"]]["text"]
        assert doc.metadata["messages"][-1] == {"role": "assistant", "content": row["text"]}
    first = documents[0].metadata
    assert first["quality_signals"]["rank"] == 0
    assert first["quality_signals"]["labels"]["quality"] == 0.75
    assert first["quality_signals"]["emojis"]["+1"] == 7


def test_score_tables_are_side_data_with_stated_counts(raw_dir: Path):
    card = raw_dir / "ds2_raw_scores" / "SOURCE.md"
    text = card.read_text()
    path = raw_dir / "ds2_raw_scores" / "gpt-4o-mini" / "output_scores.pt"
    scores = load_score_table(str(path))
    assert len(scores) == source_card_counts(card)["gpt-4o-mini/output_scores.pt"] == 300932
    stated = re.search(r"`gpt-4o-mini/output_scores.pt` \(pt.*?values: (\{.*?\})", text).group(1)
    assert dict(collections.Counter(scores.tolist())) == {
        int(k): v for k, v in json.loads(stated.replace("'", '"')).items()
    }


def _one(path: Path, **kwargs):
    return next(iter(read_records(str(path), limit=1, **kwargs)))


def test_known_records(raw_dir: Path):
    alpaca = _one(raw_dir / "alpagasus" / "claude_t45.json")
    assert alpaca.metadata["instruction"] == "What is the capital of France?"
    assert alpaca.metadata["output"] == "The capital of France is Paris."
    assert alpaca.text == "What is the capital of France?\n\nThe capital of France is Paris."

    dolly = _one(raw_dir / "dolly_alpagasus_3k")
    assert dolly.metadata["instruction"] == "How do I start running?"
    assert dolly.metadata["extra"] == {"category": "general_qa"}

    gsm = _one(raw_dir / "gsm8k" / "train.jsonl")
    assert gsm.metadata["instruction"].startswith("Natalia sold clips to 48 of her friends")
    assert gsm.metadata["final_answer"] == "72"

    share = _one(raw_dir / "fastchat_dummy_sharegpt")
    assert share.id == "fastchat_dummy_sharegpt/identity_0"
    assert (share.metadata["instruction"], share.metadata["messages"][2]) == (
        "Who are you?",
        {"role": "user", "content": "Have a nice day!"},
    )

    t0 = _one(
        raw_dir
        / "self_instruct_t0_templates"
        / "data_per_template"
        / "rotten_tomatoes_Movie_Expressed_Sentiment.jsonl"
    )
    assert t0.metadata["output"] == "positive" and t0.metadata["instruction"].endswith(
        "The sentiment expressed for the movie is"
    )

    car = _one(raw_dir / "car_expert_revised" / "APE_valid.csv")
    assert car.metadata["instruction"] == "List four countries in Africa"
    assert (
        car.metadata["output"] == "Here are four countries in Africa: Egypt, South Africa, Nigeria, Morocco."
    )
    assert car.metadata["paired_output"] == "Egypt, South Africa, Nigeria, Morocco."
    car_scored = _one(raw_dir / "car_expert_revised" / "CaR_selected_result.json")
    assert set(car_scored.metadata["quality_signals"]) == {"score", "label"}

    seed = _one(raw_dir / "self_instruct" / "seed_tasks.jsonl")
    assert seed.metadata["source_id"] == "seed_task_0" and seed.metadata["output"].startswith(
        "Yes, you can have 1 oatmeal"
    )

    kto = _one(raw_dir / "llamafactory_demo" / "kto_en_demo.json")
    assert kto.metadata["quality_signals"] == {"label": True}

    koala = _one(raw_dir / "alpagasus" / "test_data" / "koala_test_set.jsonl")
    assert koala.metadata["prompt_only"] is True and koala.metadata["output"] == ""

    wiki = _one(raw_dir / "wikipedia" / "enwiki-featured-2019-ag-gipp")
    assert (wiki.metadata["title"], wiki.id) == ("Autism", "enwiki-featured-2019-ag-gipp/25")
    assert wiki.text.startswith("Autism is a developmental disorder") and "\n\n" in wiki.text

    wikitext = _one(raw_dir / "wikipedia" / "wikitext-2-raw-valid")
    assert wikitext.metadata["title"] == "Homarus gammarus"
    assert wikitext.text.startswith("Homarus gammarus, known as the European lobster")
    assert " @-@ " not in wikitext.text and "= =" not in wikitext.text


def test_lima_history_becomes_messages(raw_dir: Path):
    multi = [doc for doc in read_records(str(raw_dir / "lima")) if "messages" in doc.metadata]
    assert len(multi) == 29
    messages = multi[0].metadata["messages"]
    assert [m["role"] for m in messages[:2]] == ["user", "assistant"]
    assert messages[-1] == {"role": "assistant", "content": multi[0].metadata["output"]}


@pytest.mark.parametrize(
    ("folder", "license"),
    [
        ("stanford_alpaca", "cc-by-nc-4.0"),
        ("gsm8k", "mit"),
        ("oasst1_en_validation", "apache-2.0"),
        ("dolly_alpagasus_3k", "cc-by-sa-3.0"),
        ("car_expert_revised", "unknown"),
        ("wikipedia/wikitext-2-raw-valid", "cc-by-sa-3.0"),
    ],
)
def test_license_and_source_default_from_source_card(raw_dir: Path, folder: str, license: str):
    doc = _one(raw_dir / folder)
    assert doc.metadata["license"] == license
    assert doc.metadata["source"] == folder.rsplit("/", 1)[-1]


def test_source_and_license_arguments_win(raw_dir: Path):
    docs = list(
        read_records(str(raw_dir / "gsm8k" / "test.jsonl"), limit=3, source="math", license="cc-by-4.0")
    )
    assert [d.metadata["source"] for d in docs] == ["math"] * 3
    assert {d.metadata["license"] for d in docs} == {"cc-by-4.0"}
    assert docs[0].id == "math/test.jsonl:0"
