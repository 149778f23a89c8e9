"""``report.html``: a self-contained page showing each cluster beside its distillation, with scores.

Every cluster is shown with its outcome: ``selected`` (in the dataset), ``not selected`` (passed re-rating,
cut by top-N/ratio/size), ``below threshold`` (dropped by re-rating) or ``rejected`` (the completion could not
be parsed; the raw text is shown). All text is HTML-escaped (Jinja autoescape); no external resources.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mixture_builder.distill.card import clusters_by_id
from mixture_builder.distill.config import DistillConfig
from mixture_builder.distill.work_folder import read_docs

REPORT_FILE = "report.html"


def _outcomes(config: DistillConfig) -> dict[str, dict[str, Any]]:
    """Per cluster id: the distillation and its fate in the rejects / re-rating intermediates."""

    work = config.work_dir
    outcome: dict[str, dict[str, Any]] = {}
    for doc in read_docs(work / "rejects"):
        outcome[doc.id] = {"status": "rejected", "reason": doc.metadata.get("filter_reason", ""),
                           "completion": doc.metadata.get("completion") or doc.metadata.get("request_error") or ""}
    for folder in ("rerate_dropped",):
        for doc in read_docs(work / folder):
            meta = doc.metadata
            status = "unrated" if meta.get("quality") is None else "below threshold"
            outcome[doc.id] = {"status": status, "quality": meta.get("quality"),
                               "instruction": meta.get("instruction"), "output": meta.get("output"),
                               "think": meta.get("cot"), "long_tail": None}
    return outcome


def write_report(config: DistillConfig, stats: dict[str, Any], selected: dict[str, dict[str, Any]],
                 passed: dict[str, dict[str, Any]]) -> Path:
    """Render ``{output}/report.html``. ``selected``: output rows by id; ``passed``: every distilled row that
    passed re-rating, by id."""
    import jinja2

    outcomes = _outcomes(config)
    clusters = []
    for cluster_id, cluster in sorted(clusters_by_id(config).items()):
        row_id = cluster_id.replace("cluster/", "distilled/", 1)
        view: dict[str, Any] = {"id": cluster_id, "source": cluster.get("cluster_source", ""),
                                "members": [{**m, "prompt": m["instruction"] + ("\n" + m["input"] if m["input"] else "")}
                                            for m in cluster["members"]]}
        if row_id in passed:
            row = passed[row_id]
            view.update(status="selected" if row_id in selected else "not selected", quality=row["quality"],
                        long_tail=row["long_tail"], instruction=row["instruction"], output=row["output"],
                        think=row.get("cot"))
        else:
            view.update(outcomes.get(cluster_id, {"status": "rejected", "reason": "missing (stage not finished)",
                                                  "completion": ""}))
            view.setdefault("long_tail", None)
        clusters.append(view)
    env = jinja2.Environment(loader=jinja2.PackageLoader("mixture_builder.distill", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    html = env.get_template("report.html.jinja").render(
        title=f"{config.pretty_name}: clusters and their distillations", stages=stats["stages"],
        clusters=clusters, distiller=stats["distiller"], rater=stats["rater"], template="distill")
    path = Path(config.output) / REPORT_FILE
    path.write_text(html, encoding="utf-8")
    return path
