"""PassageSegmenter: windows on paragraph boundaries, sentence splits for long paragraphs, metadata kept."""

from __future__ import annotations

import pytest

from mixture_builder.errors import ConfigError
from mixture_builder.readers import PassageSegmenter, split_passage
from mixture_builder.records import make_instruction, make_passage


def passage(text: str):
    return make_passage(text, title="T", source="wiki", license="cc-by-sa-3.0", doc_id="wiki/1", url="u")


def test_packs_paragraphs_without_crossing_the_window():
    text = "a b c\n\nd e f g\n\nh i\n\nj"
    assert split_passage(text, 5) == ["a b c", "d e f g", "h i\n\nj"]
    assert split_passage(text, 100) == [text]


def test_long_paragraph_splits_on_sentences_then_words():
    text = 'One two three. Four five six seven! "Eight nine?" Ten.'
    assert split_passage(text, 4) == ["One two three.", "Four five six seven!", '"Eight nine?" Ten.']
    assert split_passage("w1 w2 w3 w4 w5 w6 w7", 3) == ["w1 w2 w3", "w4 w5 w6", "w7"]


def test_every_window_respects_max_tokens_and_keeps_all_words():
    text = "\n\n".join(
        " ".join(f"p{p}s{s}w{w}." if w == 5 else f"p{p}s{s}w{w}" for s in range(7) for w in range(6))
        for p in range(5)
    )
    windows = split_passage(text, 17)
    assert all(len(w.split()) <= 17 for w in windows)
    assert " ".join(windows).split() == text.split()


def test_segment_ids_and_metadata():
    step = PassageSegmenter(max_tokens=3)
    docs = list(
        step.run(
            [
                passage("a b c\n\nd e"),
                make_instruction(instruction="Q", output="A", source="s", license="l", source_id=1),
            ]
        )
    )
    assert [d.id for d in docs] == ["wiki/1#0", "wiki/1#1", "s/1"]
    first = docs[0].metadata
    assert (first["doc_id"], first["segment_index"], first["article_id"], first["title"], first["url"]) == (
        "wiki/1#0",
        0,
        "wiki/1",
        "T",
        "u",
    )
    assert docs[1].metadata["segment_index"] == 1 and docs[1].text == "d e"
    assert step.stats["passed_through"].total == 1 and step.stats["segments"].total == 2


def test_min_tokens_drops_and_counts_short_windows():
    step = PassageSegmenter(max_tokens=3, min_tokens=2)
    docs = list(step.run([passage("a b c\n\nd")]))
    assert [d.text for d in docs] == ["a b c"] and step.stats["dropped_too_short"].total == 1


def test_custom_tokenizer_callable_and_encoder():
    by_chars = PassageSegmenter(max_tokens=5, tokenizer=len)
    assert [d.text for d in by_chars.run([passage("abc\n\nde\n\nfghij")])] == ["abc", "de", "fghij"]

    class Encoder:
        def encode(self, text):
            return list(text.replace(" ", ""))

    by_encoder = PassageSegmenter(max_tokens=4, tokenizer=Encoder())
    assert [d.text for d in by_encoder.run([passage("ab cd\n\nef")])] == ["ab cd", "ef"]


def test_invalid_configuration():
    with pytest.raises(ConfigError, match="max_tokens"):
        PassageSegmenter(max_tokens=0)
    with pytest.raises(ConfigError, match="min_tokens"):
        PassageSegmenter(max_tokens=2, min_tokens=3)


def test_real_wikipedia_windows(raw_dir):
    from mixture_builder.readers import read_records

    articles = list(read_records(str(raw_dir / "wikipedia" / "enwiki-good-2019-ag-gipp"), limit=5))
    segments = list(PassageSegmenter(max_tokens=200).run(articles))
    assert len(segments) > len(articles)
    assert all(len(s.text.split()) <= 200 for s in segments)
    for article in articles:
        parts = [s for s in segments if s.metadata["article_id"] == article.id]
        assert " ".join(p.text for p in parts).split() == article.text.split()
