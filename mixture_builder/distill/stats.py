"""Counts of a distillation run, from the datatrove stats every step keeps, as the card's stage table.

Each stage row is ``{in, out, dropped: {reason: n}, merged?, note?}`` with in = out + dropped + merged. The
per-task stats files (``.lm-mixup/logs/<stage>/stats/*.json``) are merged here, so the counts stay whole when a
resumed run executed only some of the tasks.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from mixture_builder.console import stat_total


def step_totals(logging_dir: str | Path) -> dict[str, dict[str, int]]:
    """``{stats name: {label: total}}`` over every finished task of one stage (look a step up with
    :func:`mixture_builder.step_ids.totals_of`)."""
    from datatrove.utils.stats import PipelineStats

    files = sorted((Path(logging_dir) / "stats").glob("*.json"))
    merged = sum((PipelineStats.from_json(json.loads(f.read_text())) for f in files), start=PipelineStats())
    totals: dict[str, dict[str, int]] = {}
    for step in json.loads(merged.to_json()) if files else []:
        labels = totals.setdefault(step["name"], {})
        for label, value in (step.get("stats") or {}).items():
            labels[label] = labels.get(label, 0) + stat_total(value)
    return totals


def dropped(labels: dict[str, int]) -> dict[str, int]:
    """``dropped_<reason>`` labels as ``{reason: n}`` (a bare ``dropped`` count becomes ``filtered``)."""
    reasons = {k.removeprefix("dropped_"): v for k, v in labels.items() if k.startswith("dropped_") and v}
    if not reasons and labels.get("dropped"):
        reasons = {"filtered": labels["dropped"]}
    return reasons


def filter_stage(labels: dict[str, int], **extra: Any) -> dict[str, Any]:
    """A stage row from a datatrove filter's ``total`` / ``forwarded`` / ``dropped_*`` counters."""
    return {"in": labels.get("total", 0), "out": labels.get("forwarded", 0), "dropped": dropped(labels), **extra}


def distribution(values: list[Any]) -> dict[str, int]:
    """``{value: count}`` with string keys (JSON-friendly), sorted by value."""
    counts = Counter(values)
    return {str(k): counts[k] for k in sorted(counts, key=lambda v: (v is None, v if v is not None else 0))}
