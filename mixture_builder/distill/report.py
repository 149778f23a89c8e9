"""``report.html``: a self-contained page showing each cluster beside its distillation, with scores.

Every cluster is shown with its outcome: ``selected`` (in the dataset), ``not selected`` (passed re-rating,
cut by top-N/ratio/size), ``below threshold`` / ``unrated`` (dropped by re-rating) or ``rejected`` (the
completion could not be parsed; the raw text is shown). The page is built by
:func:`mixture_builder.distill.report_html.render_report`: a summary, then pages of clusters with filters.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mixture_builder.distill.config import DistillConfig
from mixture_builder.distill.report_html import render_report
from mixture_builder.distill.work_folder import read_docs

REPORT_FILE = "report.html"


def _outcomes(config: DistillConfig) -> dict[str, dict[str, Any]]:
    """Per cluster id: the distillation and its fate in the rejects / re-rating intermediates."""

    work = config.work_dir
    outcome: dict[str, dict[str, Any]] = {}
    for doc in read_docs(work / "rejects"):
        outcome[doc.id] = {"status": "rejected", "reason": doc.metadata.get("filter_reason", ""),
                           "completion": doc.metadata.get("completion") or doc.metadata.get("request_error") or ""}
    for doc in read_docs(work / "rerate_dropped"):
        meta = doc.metadata
        status = "unrated" if meta.get("quality") is None else "below threshold"
        outcome[doc.id] = {"status": status, "quality": meta.get("quality"), "instruction": meta.get("instruction"),
                           "output": meta.get("output"), "think": meta.get("cot"), "long_tail": None}
    return outcome


def cluster_views(config: DistillConfig, selected: dict[str, dict[str, Any]],
                  passed: dict[str, dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The run's clusters as report views (see :mod:`mixture_builder.distill.report_html`)."""
    outcomes = _outcomes(config)
    for doc in read_docs(config.work_dir / "clusters"):
        members = [{"id": m["id"], "quality": m.get("quality"), "output": m["output"],
                    "prompt": m["instruction"] + ("\n" + m["input"] if m["input"] else "")}
                   for m in doc.metadata["members"]]
        view: dict[str, Any] = {"id": doc.id, "source": doc.metadata.get("cluster_source", ""), "members": members}
        row_id = doc.id.replace("cluster/", "distilled/", 1)
        if row_id in passed:
            row = passed[row_id]
            view.update(status="selected" if row_id in selected else "not selected", quality=row["quality"],
                        long_tail=row["long_tail"], instruction=row["instruction"], output=row["output"],
                        think=row.get("cot"))
        else:
            view.update(outcomes.get(doc.id, {"status": "rejected", "reason": "missing (stage not finished)",
                                              "completion": ""}))
        yield view


def write_report(config: DistillConfig, stats: dict[str, Any], selected: dict[str, dict[str, Any]],
                 passed: dict[str, dict[str, Any]]) -> Path:
    """Render ``{output}/report.html``. ``selected``: output rows by id; ``passed``: every distilled row that
    passed re-rating, by id."""
    html = render_report(cluster_views(config, selected, passed),
                         title=f"{config.pretty_name}: clusters and their distillations", stages=stats["stages"],
                         distiller=stats["distiller"], rater=stats["rater"])
    path = Path(config.output) / REPORT_FILE
    path.write_text(html, encoding="utf-8")
    return path
