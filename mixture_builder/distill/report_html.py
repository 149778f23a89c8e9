"""Render ``report.html`` from cluster views: a summary, a first page rendered as HTML, and every other cluster
as gzip + base64 JSON chunks the page decodes on demand (``DecompressionStream``) when filtering or paging.

A cluster view is a dict: ``id``, ``source``, ``status`` (one of ``STATUSES``), ``members`` (dicts with ``id``,
``prompt``, ``output``, ``quality``) and, by status, ``quality``, ``long_tail``, ``instruction``, ``output``,
``think`` (distilled or dropped at re-rating) or ``reason``, ``completion`` (rejected). Long texts are shortened
(``LIMITS``); when the chunks would exceed the byte budget, a uniform sample of clusters (by a hash of the id)
is embedded instead and the page says so. The summary counts always cover every cluster.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

STATUSES = ("selected", "not selected", "below threshold", "unrated", "rejected")
"""Cluster outcomes: in the dataset; passed re-rating but cut by selection; dropped by re-rating (low score or
no score); the completion could not be parsed."""

STATUS_FILTERS = {
    "distilled": ("selected", "not selected"),
    "selected": ("selected",),
    "not selected": ("not selected",),
    "dropped at re-rating": ("below threshold", "unrated"),
    "rejected": ("rejected",),
}
"""The page's status filter: option → the statuses it shows."""

LIMITS = {"prompt": 300, "member_output": 500, "instruction": 800, "output": 2000, "think": 800,
          "completion": 1500}
"""Characters kept per text field; the rest is replaced by a note of how much was cut."""

PAGE_SIZE = 50
CHUNK_SIZE = 200
DATA_BUDGET = 17 * 1024 * 1024
"""Bytes of embedded (base64) cluster data; the rest of the page (index, first page, summary) stays < 3 MB at
30K clusters, so the file stays under 20 MB."""


def shorten(text: Any, limit: int) -> str:
    """``text`` cut to ``limit`` characters with a note of what was cut."""
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]} … [{len(text) - limit} more characters]"


def compact(view: dict[str, Any]) -> dict[str, Any]:
    """A view with its texts shortened and only the fields the page shows."""
    status = view["status"]
    if status not in STATUSES:
        raise ValueError(f"cluster {view['id']}: unknown status {status!r} (one of {', '.join(STATUSES)})")
    members = [{"id": m["id"], "quality": m.get("quality"), "prompt": shorten(m["prompt"], LIMITS["prompt"]),
                "output": shorten(m["output"], LIMITS["member_output"])} for m in view["members"]]
    row = {"id": view["id"], "source": view.get("source", ""), "status": status, "members": members,
           "quality": view.get("quality"), "long_tail": view.get("long_tail")}
    if status == "rejected":
        row.update(reason=view.get("reason", ""), completion=shorten(view.get("completion"), LIMITS["completion"]))
    else:
        row.update({key: shorten(view.get(key), LIMITS[key]) for key in ("instruction", "output", "think")})
    return row


def _unit(cluster_id: str) -> float:
    """A stable number in [0, 1) per cluster id (the sampling key)."""
    return int(hashlib.sha1(cluster_id.encode()).hexdigest()[:12], 16) / 16**12


def _chunks(encoded: list[bytes]) -> list[str]:
    """gzip + base64 of JSON arrays of ``CHUNK_SIZE`` rows each."""
    out = []
    for start in range(0, len(encoded), CHUNK_SIZE):
        payload = b"[" + b",".join(encoded[start:start + CHUNK_SIZE]) + b"]"
        out.append(base64.b64encode(gzip.compress(payload, compresslevel=6, mtime=0)).decode("ascii"))
    return out


def _estimate(encoded: list[bytes]) -> float:
    """Estimated bytes of ``_chunks(encoded)``, from compressing at most 8 evenly spread chunks."""
    starts = range(0, len(encoded), CHUNK_SIZE)
    probe = starts[:: max(1, len(starts) // 8)]
    raw = sum(len(b) for start in probe for b in encoded[start:start + CHUNK_SIZE])
    packed = sum(len(c) for start in probe for c in _chunks(encoded[start:start + CHUNK_SIZE]))
    return sum(map(len, encoded)) * packed / max(raw, 1)


def pack(rows: list[dict[str, Any]], budget: int = DATA_BUDGET) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows to embed (all, or a hash-uniform sample when all would exceed ``budget`` bytes) and their
    chunks."""
    encoded = [json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode() for r in rows]
    fraction, estimate = 1.0, _estimate(encoded)
    while True:
        if estimate > budget:
            fraction *= budget / estimate * 0.97
            keep = [i for i, row in enumerate(rows) if _unit(row["id"]) < fraction]
            rows, encoded = [rows[i] for i in keep], [encoded[i] for i in keep]
        chunks = _chunks(encoded)
        estimate = sum(map(len, chunks))
        if estimate <= budget:
            return rows, chunks


def _json_for_script(value: Any) -> str:
    """JSON safe inside a ``<script>`` element (no ``<``, ``>``, ``&`` that could end it)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Cluster counts by source × status and distillation qualities, over every cluster."""
    by_source: dict[str, Counter] = {}
    for row in rows:
        by_source.setdefault(row["source"], Counter())[row["status"]] += 1
    qualities = Counter(row["quality"] for row in rows if row["status"] != "rejected")
    return {"by_source": dict(sorted(by_source.items())),
            "qualities": sorted((q, n) for q, n in qualities.items() if q is not None),
            "unrated": qualities.get(None, 0),
            "totals": Counter(row["status"] for row in rows)}


def render_report(views: Iterable[dict[str, Any]], *, title: str, stages: dict[str, Any], distiller: str,
                  rater: str, budget: int = DATA_BUDGET) -> str:
    """The report page for ``views`` (see the module docstring), as one self-contained HTML string."""
    import jinja2

    rows = sorted((compact(v) for v in views), key=lambda r: r["id"])
    summary = _summary(rows)
    embedded, chunks = pack(rows, budget)
    sources = sorted({r["source"] for r in rows})
    quality_values = sorted({r["quality"] for r in rows if r["quality"] is not None})
    source_ix = {s: i for i, s in enumerate(sources)}
    index = {"sources": sources, "statuses": list(STATUSES), "filters": STATUS_FILTERS, "page_size": PAGE_SIZE,
             "chunk_size": CHUNK_SIZE,
             # one entry per embedded cluster, in chunk order: [source, status, quality (-1: none)]
             "rows": [[source_ix[r["source"]], STATUSES.index(r["status"]),
                       -1 if r["quality"] is None else r["quality"]] for r in embedded]}
    env = jinja2.Environment(loader=jinja2.PackageLoader("mixture_builder.distill", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.jinja").render(
        title=title, stages=stages, distiller=distiller, rater=rater, template="distill",
        summary=summary, statuses=STATUSES, status_filters=STATUS_FILTERS, sources=sources,
        quality_values=quality_values, first_page=embedded[:PAGE_SIZE], total=len(rows),
        embedded=len(embedded), page_size=PAGE_SIZE, limits=LIMITS, budget_mb=round(budget / 2**20),
        index_json=_json_for_script(index), chunks=chunks)
