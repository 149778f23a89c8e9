"""Format detection from content (any file name), forcing a format, and the family readers / Hub reader."""

from __future__ import annotations

import csv
import json
from functools import partial
from pathlib import Path

import pytest

from mixture_builder.readers import (
    FORMATS,
    AlpacaReader,
    HubReader,
    PassageSegmenter,
    RawReader,
    read_records,
)
from mixture_builder.readers.formats import detect_format
from mixture_builder.readers.source_file import SourceFile

ROWS = {
    "alpaca": [{"instruction": "Add 2 and 2.", "input": "", "output": "4"}],
    "dolly": [
        {
            "instruction": "Summarise.",
            "context": "Cats purr.",
            "response": "Cats purr.",
            "category": "summarization",
        }
    ],
    "self_instruct": [{"id": "t1", "instruction": "Add.", "instances": [{"input": "1, 2", "output": "3"}]}],
    "gsm8k": [{"question": "What is 2+2?", "answer": "2+2=<<2+2=4>>4\n#### 4"}],
    "prompt_completion": [{"prompt": "Sentiment: great film\n", "completion": "positive<|endoftext|>"}],
    "prompts": [{"id": "k1", "prompt": "Write a poem."}],
    "sharegpt": [
        {"id": "c1", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}
    ],
    "messages": [
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello"},
            ]
        }
    ],
    "lima": [{"conversations": ["Hi", "Hello", "How are you?", "Fine."], "source": "stackexchange"}],
    "oasst": [
        {"message_id": "m1", "parent_id": None, "role": "prompter", "text": "Hi"},
        {"message_id": "m2", "parent_id": "m1", "role": "assistant", "text": "Hello", "rank": 0},
    ],
    "passages": [{"text": "Para one.\n\nPara two.", "meta": 1}],
    "wikiextractor": [
        {"id": "7", "url": "https://w/7", "title": "Cats", "text": "Cats\n\nCats are mammals."}
    ],
}
DETECTED_AS = {"dolly": "alpaca"}


def write(path: Path, rows: list[dict], container: str) -> Path:
    if container == "jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    else:
        path.write_text(json.dumps(rows, indent=2))
    return path


@pytest.mark.parametrize("container", ["jsonl", "json"])
@pytest.mark.parametrize("name", sorted(ROWS))
def test_detects_format_from_content(tmp_path: Path, name: str, container: str):
    path = write(tmp_path / "data", ROWS[name], container)  # no extension: content decides
    file = SourceFile(
        path=str(path), label="data", source="s", license="l", open_binary=partial(path.open, "rb")
    )
    assert file.container == container
    assert detect_format(file) == DETECTED_AS.get(name, name)
    documents = list(read_records(str(path)))
    assert len(documents) == 1
    meta = documents[0].metadata
    if name in ("passages", "wikiextractor"):
        assert meta["kind"] == "passage"
        assert documents[0].text == (
            "Cats are mammals." if name == "wikiextractor" else "Para one.\n\nPara two."
        )
    else:
        assert meta["kind"] == "instruction" and meta["instruction"]


def test_conversation_fields(tmp_path: Path):
    (doc,) = read_records(str(write(tmp_path / "c.json", ROWS["messages"], "json")))
    assert (doc.metadata["instruction"], doc.metadata["output"]) == ("Hi", "Hello")
    assert doc.metadata["messages"][0] == {"role": "system", "content": "Be brief."}
    (lima,) = read_records(str(write(tmp_path / "l.json", ROWS["lima"], "json")))
    assert [m["role"] for m in lima.metadata["messages"]] == ["user", "assistant", "user", "assistant"]
    assert lima.metadata["extra"] == {"source": "stackexchange"}


def test_prompt_completion_strips_end_marker(tmp_path: Path):
    (doc,) = read_records(str(write(tmp_path / "p.jsonl", ROWS["prompt_completion"], "jsonl")))
    assert doc.metadata["output"] == "positive"


def test_text_containers(tmp_path: Path):
    doc_file = tmp_path / "wiki_00"
    doc_file.write_text(
        '<doc id="3" url="u" title="A &amp; B">\nA & B\n\nFirst para.\nSecond para.\n</doc>\n'
    )
    (doc,) = read_records(str(doc_file))
    assert (doc.id, doc.metadata["title"], doc.text) == ("wiki_00/3", "A & B", "First para.\n\nSecond para.")
    wt = tmp_path / "wiki.raw"
    wt.write_text(
        " \n = Cat = \n \n The cat @-@ like animal , here .\n \n = = Diet = = \n Mice .\n = Dog = \n Barks .\n"
    )
    docs = list(read_records(str(wt)))
    assert [d.metadata["title"] for d in docs] == ["Cat", "Dog"]
    assert docs[0].text == "The cat-like animal, here.\n\nMice."
    plain = tmp_path / "notes.txt"
    plain.write_text("A wrapped\nparagraph.\n\nAnother one.\n")
    (doc,) = read_records(str(plain))
    assert doc.text == "A wrapped paragraph.\n\nAnother one." and doc.metadata["kind"] == "passage"


def test_compressed_files_and_prose_with_commas(tmp_path: Path):
    import gzip

    with gzip.open(tmp_path / "a.jsonl.gz", "wt") as handle:
        handle.write(json.dumps(ROWS["gsm8k"][0]) + "\n")
    assert next(iter(read_records(str(tmp_path / "a.jsonl.gz")))).metadata["final_answer"] == "4"
    prose = tmp_path / "story"
    prose.write_text("Once upon a time, there was a cat.\n")
    assert next(iter(read_records(str(prose)))).metadata["kind"] == "passage"


def test_csv_pairs_both_sides(tmp_path: Path):
    path = tmp_path / "pairs.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["src", "pos", "neg"])
        writer.writerow(["Instruction: Translate. Input: Bonjour", "Response: Hello.\\nHi.", "Response: Hi"])
    docs = list(read_records(str(path), pair_side="both"))
    assert [
        (d.metadata["input"], d.metadata["output"], d.metadata["quality_signals"]["expert_revised"])
        for d in docs
    ] == [("Bonjour", "Hello.\nHi.", True), ("Bonjour", "Hi", False)]


def test_parquet_with_custom_text_key(tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"body": ["One.\n\nTwo.", "Three."], "id": ["a", "b"]}), tmp_path / "p.parquet")
    docs = list(read_records(str(tmp_path / "p.parquet"), text_key="body", source="mine"))
    assert [d.id for d in docs] == ["mine/a", "mine/b"]


def test_forced_format_overrides_detection(tmp_path: Path):
    path = write(tmp_path / "x.jsonl", [{"instruction": "Q?", "output": "A.", "text": "Full text."}], "jsonl")
    assert next(iter(read_records(str(path)))).metadata["kind"] == "instruction"
    forced = next(iter(read_records(str(path), format="passages")))
    assert forced.metadata["kind"] == "passage" and forced.text == "Full text."
    assert next(iter(AlpacaReader(str(path)).run())).metadata["output"] == "A."


def test_every_format_name_is_registered():
    assert {
        "wikiextractor",
        "wikitext",
        "alpaca",
        "dolly",
        "oasst",
        "sharegpt",
        "messages",
        "lima",
        "gsm8k",
        "prompt_completion",
        "car_pairs",
        "passages",
        "prompts",
        "self_instruct",
        "text",
    } <= set(FORMATS)


def test_reader_runs_in_a_datatrove_pipeline(tmp_path: Path):
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.writers import JsonlWriter

    data = tmp_path / "in"
    data.mkdir()
    write(data / "a.jsonl", ROWS["alpaca"] * 3, "jsonl")
    write(data / "w.json", ROWS["wikiextractor"], "json")
    LocalPipelineExecutor(
        pipeline=[
            RawReader(str(data)),
            PassageSegmenter(max_tokens=50),
            JsonlWriter(str(tmp_path / "out"), compression=None),
        ],
        logging_dir=str(tmp_path / "logs"),
        tasks=2,
        workers=1,
    ).run()
    rows = [json.loads(line) for path in sorted((tmp_path / "out").glob("*.jsonl")) for line in path.open()]
    assert sorted(row["metadata"]["kind"] for row in rows) == ["instruction"] * 3 + ["passage"]
    assert any(row["id"].endswith("#0") for row in rows)


def test_hub_reader_uses_the_same_formats(tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "org_dataset" / "data"
    folder.mkdir(parents=True)
    pq.write_table(
        pa.table({"question": ["What is 1+1?", "What is 2+2?"], "answer": ["#### 2", "#### 4"]}),
        folder / "train-00000-of-00001.parquet",
    )
    reader = HubReader(str(tmp_path / "org_dataset"), split="train", license="mit")
    docs = list(reader.run())
    assert [d.metadata["final_answer"] for d in docs] == ["2", "4"]
    assert docs[0].metadata["source"] == "org_dataset" and docs[0].metadata["license"] == "mit"


def test_fsspec_urls_with_source_card(tmp_path: Path):
    import fsspec

    fs = fsspec.filesystem("memory")
    with fs.open("/lm_mixup_test_ds/SOURCE.md", "w") as handle:
        handle.write("# My set\n\nLicense (as stated by the source repo): MIT (repo `LICENSE`).\n")
    with fs.open("/lm_mixup_test_ds/part/a.jsonl", "w") as handle:
        handle.write(json.dumps(ROWS["gsm8k"][0]) + "\n")
    try:
        (doc,) = read_records("memory:///lm_mixup_test_ds")
    finally:
        fs.rm("/lm_mixup_test_ds", recursive=True)
    assert (doc.id, doc.metadata["license"]) == ("lm_mixup_test_ds/part/a.jsonl:0", "mit")
    local = write(tmp_path / "g.jsonl", ROWS["gsm8k"], "jsonl")
    assert next(iter(read_records(f"file://{local}"))).metadata["final_answer"] == "4"
