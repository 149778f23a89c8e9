"""`distill --dry-run`: per-stage calls, tokens, cost and time from the real pools, with no request sent; the
same estimate lands in stats.json next to the actual usage."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from typer.testing import CliRunner

from mixture_builder.cli import app
from mixture_builder.distill.config import DistillConfig
from mixture_builder.distill.plan import make_plan, sample_pools
from mixture_builder.teacher.testing import FakeOpenAIServer
from tests.mixture_builder.distill._fixtures_distill import real_pool_config, scripted_teacher

PRICES = {"input": 0.15, "output": 0.6}


def _config(raw_dir: Path, tmp_path: Path, base_url: str, **overrides) -> dict:
    data = real_pool_config(raw_dir, tmp_path / "out", base_url, limit=200, **overrides)
    for teacher in (data["scoring"]["rater"], data["distiller"]["teacher"]):
        teacher.update(prices=PRICES, max_concurrency=8, requests_per_minute=600)
    return data


def test_dry_run_prints_every_teacher_stage_and_sends_nothing(raw_dir, tmp_path):
    with FakeOpenAIServer(scripted_teacher) as server:
        path = tmp_path / "distill.yaml"
        path.write_text(yaml.safe_dump(_config(raw_dir, tmp_path, server.base_url)))
        result = CliRunner().invoke(app, ["distill", "--config", str(path), "--dry-run"])
        assert server.requests == []
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.startswith("    ")}
    assert set(lines) == {"score", "distill", "rerate", "total"}
    for stage in ("score", "distill", "rerate"):
        calls, cost, seconds = re.search(r"(\d[\d,]*) calls .*cost \$([\d.]+), ≈ ([\d,]+) s", lines[stage]).groups()
        assert int(calls.replace(",", "")) > 0 and float(cost) > 0 and int(seconds.replace(",", "")) > 0
    assert "400 (400 to rate)" in result.output.replace("records: 400", "400")
    assert not (tmp_path / "out").exists()


def test_plan_scales_with_calls_and_limits(raw_dir, tmp_path):
    config = DistillConfig.from_dict(_config(raw_dir, tmp_path, "http://127.0.0.1:9/v1"))
    plan = make_plan(config)
    assert plan.records == 400 and plan.unscored == 400
    score = plan.stages["score"]
    assert score["calls"] == 400 and score["seconds"] >= 400 / 600 * 60  # the requests-per-minute bound
    assert plan.stages["distill"]["calls"] == plan.clusters == plan.stages["rerate"]["calls"]
    sampled = make_plan(config, sample_limit=100)
    assert sampled.stride == 4 and sampled.stages["score"]["calls"] == 400
    assert abs(sampled.stages["score"]["prompt_tokens"] - score["prompt_tokens"]) < 0.15 * score["prompt_tokens"]


def test_the_plan_holds_a_sample_not_the_pools(raw_dir, tmp_path):
    """Records are streamed: every k-th is kept (k the smallest power of two that keeps ≤ the limit)."""
    config = DistillConfig.from_dict(_config(raw_dir, tmp_path, "http://127.0.0.1:9/v1"))
    _, _, every = sample_pools(config, sample_limit=10**6)
    records, k, kept = sample_pools(config, sample_limit=150)
    assert (records, k, len(every)) == (400, 4, 400)
    assert [d.id for d in kept] == [d.id for d in every][::4]
