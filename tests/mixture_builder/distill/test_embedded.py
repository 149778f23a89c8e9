"""The embedded default (SmolLM2-135M on CPU as rater and distiller, offline) on a slice of the packaged pool.

The full default (`lm-mixup distill` with no config) takes minutes; this runs the same configuration on the first
records of the demo pool so it stays within a slow test's budget.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mixture_builder.distill.config import PoolConfig, demo_config, demo_pool_path
from mixture_builder.distill.pipeline import run_distill


@pytest.mark.slow
def test_embedded_default_on_a_slice_of_the_demo_pool(tmp_path: Path):
    from tests.mixture_builder.distill._fixtures_distill import load_train

    config = demo_config()
    config.pools = [PoolConfig(path=str(demo_pool_path()), limit=16)]
    config.output = str(tmp_path / "out")
    config.report = True
    config.scoring.rater.cache_path = config.distiller.teacher.cache_path = str(tmp_path / "cache.sqlite")
    config.scoring.rater.progress = config.distiller.teacher.progress = False
    stats = run_distill(config)

    rows = load_train(config.output)
    assert rows.num_rows == stats["output"]["rows"] > 0
    stages = stats["stages"]
    for name, stage in stages.items():
        assert stage["in"] == stage["out"] + sum(stage["dropped"].values()) + stage.get("merged", 0), name
    assert stages["score"]["in"] > 0 and stats["teacher_usage"]["score"].get("requests", 0) > 0
    assert stats["teacher_usage"]["distill"].get("requests", 0) == stages["cluster low"]["out"]
    html = (Path(config.output) / "report.html").read_text()
    assert html.count('class="cluster"') == stages["cluster low"]["out"]
    assert stats["distiller"].startswith("SmolLM2-135M-Instruct (distill@")
