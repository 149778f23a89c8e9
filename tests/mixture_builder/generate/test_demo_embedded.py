"""The embedded demo's machinery end to end with the real SmolLM2-135M teacher on CPU (a small slice of it:
the full demo takes several minutes and is run by ``make demo``)."""

from __future__ import annotations

import dataclasses

import pytest

from mixture_builder.generate.config import SourceConfig
from mixture_builder.generate.pipeline import build_mixture
from mixture_builder.generate.run import demo_config
from mixture_builder.mixture_format import MIXTURE_FIELDS, linearise, matches_task_pattern


@pytest.mark.slow
def test_embedded_teacher_builds_a_small_mixture(tmp_path):
    config = dataclasses.replace(
        demo_config(),
        output=str(tmp_path / "out"),
        sources=[SourceConfig(limit=2)],
        tasks=["qa", "cs"],
        tasks_per_passage=None,
        task_weights=None,
        noise_variants=2,
        teacher=dataclasses.replace(demo_config().teacher, cache_path=str(tmp_path / "cache.sqlite")),
    )
    result = build_mixture(config)
    stages = result.stats["stages"]
    assert stages["write samples"]["in"] == 2 and stages["write samples"]["out"] <= 4
    assert stages["teacher variants"]["in"] == stages["quality filter"]["out"]
    import pyarrow.parquet as pq

    rows = [row for path in sorted(result.output.glob("data_*/*.parquet")) for row in pq.read_table(path).to_pylist()]
    assert rows and len(rows) == stages["assemble"]["out"]
    for row in rows:
        assert set(row) == set(MIXTURE_FIELDS)
        assert 2 <= len(row["inputs"]) <= 20 and row["input"] == linearise(row["inputs"])
        assert matches_task_pattern(row["task_type"], row["output"]) and row["cot"]
        assert row["teacher"].startswith("SmolLM2-135M-Instruct") and row["license"] == "apache-2.0"
