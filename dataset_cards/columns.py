"""What each known column of an lm-mixup dataset means (the card's provenance table)."""

from __future__ import annotations

COLUMN_DESCRIPTIONS: dict[str, str] = {
    "id": "Stable record id.",
    "task_type": "Task kind: `qa_mixup`, `mcq_mixup`, `tfq_mixup`, `cs_mixup` or `para_mixup`.",
    "instruction": "The instruction given to LM-Mixup (merge the samples into one high-quality sample).",
    "input": "The cluster's samples linearised into one model input (items separated by blank lines).",
    "output": "The high-quality target sample.",
    "cot": "The chain of thought that leads from the inputs to the output.",
    "source": "Where the record's content comes from (e.g. the source corpus or instruction pool).",
    "sources": "The sources of the records mixed into this one.",
    "inputs": "The cluster: 2–20 low-quality or redundant samples, as a list.",
    "degradations": "Per input, the degradations applied to it (typos, repetition, lack of depth, unclear prompt…).",
    "source_ids": "Ids of the records this one was derived from.",
    "quality": "Quality score 0–5 from the rater (overall 1–10 clipped to [4, 9] minus 4); ≥ 4 is high quality.",
    "quality_details": "The rater's sub-scores: rarity, complexity, informativeness, overall (1–10).",
    "teacher": "The model and prompt-template versions that wrote the record.",
    "license": "License(s) of the source(s) the record mixes.",
    "licenses": "License(s) of the source(s) the record mixes.",
    "cluster_size": "Number of samples in the record's cluster.",
    "cluster_id": "Id of the cluster the record was distilled from.",
    "long_tail": "Long-tail score in [0, 1]: mean cosine distance to the k nearest neighbours, min-max normalised.",
    "origin": "`distilled` (written by LM-Mixup from a cluster) or `original` (kept high-quality sample).",
    "prompt": "The prompt (chat messages) given to the model.",
    "completion": "The training target (`<think>…</think>` then `<answer>…</answer>`).",
    "messages": "The conversation in chat-message form.",
}
"""Column name → one-line meaning; columns not listed here are shown with their type only."""


def describe_columns(columns: dict[str, str]) -> list[dict[str, str]]:
    """``{name: arrow type}`` → rows ``{name, type, description}`` for the card, in schema order."""
    return [
        {"name": name, "type": dtype, "description": COLUMN_DESCRIPTIONS.get(name, "")}
        for name, dtype in columns.items()
    ]
