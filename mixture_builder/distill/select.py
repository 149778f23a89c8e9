"""Output rows, ranking (quality, then long-tail score) and merging distilled with original samples."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from datatrove.data import Document

from mixture_builder.clustering.embeddings import embed_texts
from mixture_builder.clustering.longtail import long_tail_scores
from mixture_builder.distill.config import MergeConfig
from mixture_builder.distill.parse import sample_prompt
from mixture_builder.records import instruction_fields, render_instruction

DISTILLED = "distilled"
ORIGINAL = "original"

OUTPUT_COLUMNS: tuple[str, ...] = (
    "id", "instruction", "input", "output", "messages", "origin", "source_ids", "sources", "licenses",
    "quality", "long_tail", "teacher", "cot",
)
"""Columns of the distilled dataset: Alpaca fields, chat ``messages`` (for TRL), provenance and scores."""
LONG_TAIL_DECIMALS = 4
"""Precision of the long-tail score. Vectors do not depend on how texts are batched (``embed_texts``), but
torch's thread count (another number of tasks per machine) can move a rare one in the 7th decimal."""


def chat_messages(instruction: str, input: str, output: str) -> list[dict[str, str]]:
    """The sample as a user/assistant conversation (what TRL's ``SFTTrainer`` reads from ``messages``)."""
    return [{"role": "user", "content": sample_prompt(instruction, input)}, {"role": "assistant", "content": output}]


def original_row(doc: Document) -> dict[str, Any]:
    """An original high-quality sample as an output row (``long_tail`` is filled in by ``rank``)."""
    instruction, input_, output = instruction_fields(doc)
    meta = doc.metadata
    return {
        "id": doc.id, "instruction": instruction, "input": input_, "output": output,
        "messages": chat_messages(instruction, input_, output), "origin": ORIGINAL,
        "source_ids": [doc.id], "sources": [meta.get("source", "")], "licenses": [meta.get("license", "")],
        "quality": int(meta["quality"]), "long_tail": None, "teacher": None, "cot": None,
    }


def distilled_row(doc: Document) -> dict[str, Any]:
    """A distilled sample (a parsed, re-rated cluster document) as an output row."""
    meta = doc.metadata
    instruction, output = meta["instruction"], meta["output"]
    return {
        "id": doc.id.replace("cluster/", "distilled/", 1), "instruction": instruction, "input": "",
        "output": output, "messages": chat_messages(instruction, "", output), "origin": DISTILLED,
        "source_ids": list(meta["source_ids"]), "sources": list(meta["sources"]), "licenses": list(meta["licenses"]),
        "quality": None if meta.get("quality") is None else int(meta["quality"]),  # None: re-rating was off
        "long_tail": None, "teacher": meta.get("teacher"), "cot": meta.get("cot"),
    }


def long_tail_text(row: dict[str, Any]) -> str:
    """The text of a row that the long-tail score embeds: instruction, input and output (what the ``embed``
    stage embeds for an instruction record, see ``clustering.embeddings.embedding_text``)."""
    return render_instruction(row["instruction"], row["input"], row["output"])


def add_long_tail(rows: Sequence[dict[str, Any]], k: int = 15, model_name: str | None = None,
                  vectors: np.ndarray | None = None) -> None:
    """Set ``long_tail`` on every row: mean cosine distance to its ``k`` nearest rows, min-max normalised
    (the paper's long-tail score; rarer content scores higher). ``vectors`` are the rows' embeddings of
    instruction+input+output when already computed (row order); else they are embedded here."""
    if not rows:
        return
    if vectors is None:
        vectors = embed_texts([long_tail_text(r) for r in rows], model_name)
    elif len(vectors) != len(rows):
        raise ValueError(f"{len(vectors)} vectors for {len(rows)} rows")
    scores = long_tail_scores(vectors, k=min(k, max(1, len(rows) - 1)))
    for row, score in zip(rows, scores):
        row["long_tail"] = round(float(score), LONG_TAIL_DECIMALS)


def rank(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Best first: higher quality (unrated last), then higher long-tail score (ties by id: a stable order)."""
    return sorted(rows, key=lambda r: (-(r["quality"] if r["quality"] is not None else -1),
                                       -(r["long_tail"] or 0.0), r["id"]))


def merge_counts(n_distilled: int, n_original: int, merge: MergeConfig) -> tuple[int, int]:
    """How many distilled and original samples to take (see ``MergeConfig``)."""
    d = n_distilled if merge.top_n is None else min(n_distilled, merge.top_n)
    o = n_original
    if merge.size is not None:
        ratio = 0.5 if merge.ratio is None else merge.ratio
        d = min(d, round(merge.size * ratio))
        o = min(o, merge.size - d)
        d = min(n_distilled if merge.top_n is None else min(n_distilled, merge.top_n), merge.size - o)
    elif merge.ratio is not None:
        ratio = merge.ratio
        if ratio >= 1:
            o = 0
        else:  # cap the larger side; with no distilled samples at all, the originals are kept
            d = min(d, math.floor(o * ratio / (1 - ratio) + 1e-9))
            if d:
                o = min(o, math.ceil(d * (1 - ratio) / ratio - 1e-9))
    return d, o


def select(
    distilled: Sequence[dict[str, Any]], originals: Sequence[dict[str, Any]], merge: MergeConfig
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The top distilled and original rows to keep, each ranked best first."""
    ranked_d, ranked_o = rank(distilled), rank(originals)
    n_d, n_o = merge_counts(len(ranked_d), len(ranked_o), merge)
    return ranked_d[:n_d], ranked_o[:n_o]
