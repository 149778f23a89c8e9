"""report.html at scale, fed synthetic cluster views (no distill run): size budget, filters, the embedded
chunks decode back to the clusters, text stays escaped."""

from __future__ import annotations

import base64
import gzip
import json
import re

from mixture_builder.distill.report_html import PAGE_SIZE, STATUS_FILTERS, compact, render_report
from tests.mixture_builder.distill._report_synthetic import synthetic_views

MB = 1024 * 1024
HOSTILE = '</script><img id="pwned" src=x onerror=alert(1)>'


def _render(views, **kwargs) -> str:
    return render_report(views, title="t", stages={"distill": {"in": 1, "out": 1, "dropped": {}}},
                         distiller="d", rater="r", **kwargs)


def _chunks(html: str) -> list[list[dict]]:
    found = re.findall(r'<script type="application/octet-stream" id="chunk-\d+">([A-Za-z0-9+/=]*)</script>', html)
    return [json.loads(gzip.decompress(base64.b64decode(c))) for c in found]


def _index(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="report-index">(.*?)</script>', html).group(1))


def test_30k_clusters_fit_in_20_mb_with_filters_and_a_sample_note():
    views = synthetic_views(30_000)
    html = _render(views)
    assert len(html.encode()) <= 20 * MB
    for control in ('id="f-source"', 'id="f-status"', 'id="f-quality"'):
        assert control in html
    for name in ("alpaca", "dolly", "oasst"):
        assert f'<option value="{name}">' in html
    for name in STATUS_FILTERS:
        assert f'<option value="{name}">' in html
    index = _index(html)
    embedded = [row for chunk in _chunks(html) for row in chunk]
    assert len(embedded) == len(index["rows"]) < 30_000  # sampled, and the page says how much
    assert f"holds {len(embedded)} of the 30000 clusters" in html
    # the summary counts every cluster, not only the embedded sample
    assert re.search(r"<tr><th>all</th>(<th>6000</th>){5}<th>30000</th></tr>", html)
    assert html.count('class="cluster"') == PAGE_SIZE  # the first page is plain HTML


def test_small_report_embeds_every_cluster_as_given_and_escapes_text():
    views = synthetic_views(450, seed=1)
    views[3]["members"][0]["output"] = HOSTILE
    views[5]["source"] = HOSTILE
    html = _render(views)
    embedded = [row for chunk in _chunks(html) for row in chunk]
    assert embedded == sorted((compact(v) for v in views), key=lambda r: r["id"])
    assert "holds" not in html and len(_index(html)["rows"]) == 450
    assert HOSTILE not in html and "<img" not in html
    assert "&lt;img id=&#34;pwned&#34;" in html  # escaped in the first page and the source filter


def test_long_texts_are_shortened_with_a_note():
    view = synthetic_views(1)[0]
    view["members"][0]["output"] = "x" * 5000
    row = compact(view)
    assert row["members"][0]["output"].endswith("… [4500 more characters]")
