"""report.html in headless Chromium (skipped when ``chromium`` is not installed): filters set in the address
render the right clusters from the compressed chunks, and text from the data stays text."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mixture_builder.distill.report_html import PAGE_SIZE, render_report
from tests.mixture_builder.distill._report_synthetic import synthetic_views

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def _dom(path: Path, fragment: str) -> str:
    result = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
                             "--dump-dom", path.as_uri() + fragment], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, list[dict]]:
    views = synthetic_views(1500, seed=2)
    views[7]["members"][0]["output"] = '<img id="pwned" src=x onerror=alert(1)>'
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_report(views, title="t", stages={}, distiller="d", rater="r"), encoding="utf-8")
    return path, views


def _shown(dom: str) -> list[tuple[str, str, str, str]]:
    return re.findall(r'<div class="cluster" id="([^"]+)" data-source="([^"]*)" data-status="([^"]*)" '
                      r'data-quality="([^"]*)"', dom)


def test_filters_in_the_address_select_clusters_from_the_compressed_chunks(report):
    path, views = report
    wanted = sorted(v["id"] for v in views if v["source"] == "dolly" and v["status"] == "rejected")
    dom = _dom(path, "#source=dolly&status=rejected&page=2")
    assert 'data-ready="1"' in dom  # the script ran to the end
    assert f'data-matching="{len(wanted)}" data-page="2"' in dom
    assert [s[0] for s in _shown(dom)] == wanted[PAGE_SIZE:2 * PAGE_SIZE]


def test_status_group_and_quality_filters(report):
    path, views = report
    dom = _dom(path, "#status=distilled&quality=4")
    wanted = sorted(v["id"] for v in views if v["status"] in ("selected", "not selected") and v.get("quality") == 4)
    shown = _shown(dom)
    assert f'data-matching="{len(wanted)}"' in dom
    assert [s[0] for s in shown] == wanted[:PAGE_SIZE]
    assert {s[2] for s in shown} <= {"selected", "not selected"} and {s[3] for s in shown} == {"4"}


def test_text_from_the_data_is_rendered_as_text(report):
    path, views = report
    dom = _dom(path, "#source=dolly")  # rendered by the script, not the first page
    assert views[7]["id"] in dom
    assert "<img" not in dom and '&lt;img id="pwned"' in dom  # a text node, not an element
