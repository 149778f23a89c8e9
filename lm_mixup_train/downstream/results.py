"""Scores with 95% bootstrap intervals over examples, differences to a reference candidate, table and chart.

Per-example rows (``group``, ``doc_id``, ``score``, optional ``weight``) come from lm-eval's logged samples
(or the held-out NLL). A task's value is the weighted mean of its examples (``micro``) or the mean of its
groups' means (``macro``: BBH tasks, TyDiQA languages). Resampling is seeded per task,
so candidates evaluated on the same examples get the same resamples: differences are paired. Micro tasks
resample all their examples as one pool (MMLU with one question per subject still gets an interval); macro
tasks resample within each group.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import HELDOUT_TASK

AVERAGE = "average"
"""Column of the mean over the benchmark tasks (the held-out NLL is not averaged in: other scale, lower is better)."""


@dataclass
class Estimate:
    """A point value, its 95% interval, the number of examples and the bootstrap draws behind the interval."""

    value: float
    ci: tuple[float, float]
    n: int
    draws: np.ndarray

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "ci": [self.ci[0], self.ci[1]], "n": self.n}


def _groups(rows: list[dict[str, Any]], stratified: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(scores, weights)`` per group (stratified) or of all rows as one pool, in a fixed order."""
    by_group: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: (r["group"], r["doc_id"])):
        by_group.setdefault(row["group"] if stratified else "", []).append(row)
    return [(np.array([r["score"] for r in g], dtype=float), np.array([r.get("weight", 1.0) for r in g], dtype=float))
            for g in by_group.values()]


def estimate(rows: list[dict[str, Any]], *, macro: bool = False, samples: int = 1000, seed: int = 0,
             key: str = "") -> Estimate:
    """Point value and percentile 95% interval of ``rows``; draws are reproducible for the same ``key``."""
    if not rows:
        raise ValueError("no examples to estimate from")
    rng = np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])
    sums = np.zeros(samples)
    weights = np.zeros(samples)
    group_means = []
    total_sw = total_w = 0.0
    values = []
    for scores, w in _groups(rows, stratified=macro):
        idx = rng.integers(0, len(scores), size=(samples, len(scores)))
        sw, ww = (scores[idx] * w[idx]).sum(axis=1), w[idx].sum(axis=1)
        sums, weights = sums + sw, weights + ww
        group_means.append(sw / ww)
        total_sw, total_w = total_sw + float((scores * w).sum()), total_w + float(w.sum())
        values.append(float((scores * w).sum() / w.sum()))
    if macro:
        draws, value = np.mean(group_means, axis=0), float(np.mean(values))
    else:
        draws, value = sums / weights, total_sw / total_w
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return Estimate(value, (float(lo), float(hi)), len(rows), draws)


def average(estimates: list[Estimate]) -> Estimate:
    """Mean of several tasks' estimates (their draws averaged draw by draw)."""
    draws = np.mean([e.draws for e in estimates], axis=0)
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return Estimate(float(np.mean([e.value for e in estimates])), (float(lo), float(hi)),
                    sum(e.n for e in estimates), draws)


def difference(a: Estimate, b: Estimate) -> Estimate:
    """``a − b`` with the interval of the paired draw differences."""
    draws = a.draws - b.draws
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return Estimate(a.value - b.value, (float(lo), float(hi)), min(a.n, b.n), draws)


def summarise(table: dict[str, dict[str, Estimate]], reference: str) -> dict[str, Any]:
    """``{"results": …, "differences": …}`` with an ``average`` column over the benchmark tasks."""
    for row in table.values():
        bench = [e for task, e in row.items() if task not in (HELDOUT_TASK, AVERAGE)]
        if len(bench) > 1:
            row[AVERAGE] = average(bench)
    results = {c: {t: e.as_dict() for t, e in row.items()} for c, row in table.items()}
    diffs: dict[str, dict[str, Any]] = {}
    for cand, row in table.items():
        if cand == reference:
            continue
        diffs[cand] = {t: difference(e, table[reference][t]).as_dict() for t, e in row.items()
                       if t in table.get(reference, {})}
    return {"results": results, "differences": diffs, "reference": reference}


def _cell(task: str, entry: dict[str, Any], signed: bool = False) -> str:
    scale, digits = (1.0, 3) if task == HELDOUT_TASK else (100.0, 1)
    sign = "+" if signed else ""
    value, (lo, hi) = entry["value"] * scale, [x * scale for x in entry["ci"]]
    return f"{value:{sign}.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def markdown_tables(summary: dict[str, Any], tasks: list[str]) -> str:
    """The scores table and the differences-to-reference table (Markdown)."""
    columns = [t for t in tasks if t != HELDOUT_TASK]
    columns += [AVERAGE] if any(AVERAGE in r for r in summary["results"].values()) else []
    columns += [HELDOUT_TASK] if HELDOUT_TASK in tasks else []

    def table(rows: dict[str, dict[str, Any]], signed: bool) -> list[str]:
        lines = ["| candidate | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
        for cand, row in rows.items():
            cells = [_cell(t, row[t], signed) if t in row else "–" for t in columns]
            lines.append(f"| {cand} | " + " | ".join(cells) + " |")
        return lines

    out = table(summary["results"], False)
    if summary["differences"]:
        out += ["", f"Difference to `{summary['reference']}` (paired bootstrap):", ""]
        out += table(summary["differences"], True)
    return "\n".join(out)


def bar_chart(summary: dict[str, Any], tasks: list[str], path: Path) -> Path:
    """One panel per task: a bar per candidate with its 95% interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = [t for t in tasks if t != HELDOUT_TASK] + [t for t in (AVERAGE, HELDOUT_TASK)
                                                          if any(t in r for r in summary["results"].values())]
    cands = list(summary["results"])
    fig, axes = plt.subplots(1, len(columns), figsize=(2.6 * len(columns) + 1, 3.2), squeeze=False)
    for ax, task in zip(axes[0], columns):
        values = [summary["results"][c].get(task, {"value": np.nan, "ci": [np.nan, np.nan]}) for c in cands]
        heights = np.array([v["value"] for v in values])
        err = np.abs(np.array([v["ci"] for v in values]).T - heights)
        ax.bar(range(len(cands)), heights, yerr=err, capsize=3, color=[f"C{i}" for i in range(len(cands))])
        ax.set_xticks(range(len(cands)), cands, rotation=30, ha="right", fontsize=8)
        ax.set_title(task + (" (lower is better)" if task == HELDOUT_TASK else ""), fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
